"""Hostile HTTP at the connection level, through raw sockets against the real binary (issue 8, rows 5, 11, 13).

Each case must get a clear answer and a closed socket quickly; "quickly" is a generous bound (seconds)
that only detects a hang, never a speed measurement.
"""
import base64
import json
import os
import socket
import time

import pytest

from harness import Server

ANSWER_WITHIN = 10.0


def connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=ANSWER_WITHIN)
    return sock


def read_until_closed(sock: socket.socket, within: float = ANSWER_WITHIN) -> tuple[bytes, bool]:
    """Everything the server sends until it closes the socket; `closed` is False when it stayed open."""
    received = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def parse(raw: bytes) -> tuple[int, dict, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def send_raw(server: Server, payload: bytes) -> tuple[int, dict, bytes, bool]:
    with connect(server) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw, closed = read_until_closed(sock)
    assert raw, "no response at all"
    status, headers, body = parse(raw)
    return status, headers, body, closed


@pytest.fixture
def tight_server(data_dir):
    instance = Server(data_dir, extra_args=[
        "--http-header-timeout-seconds", "2", "--http-idle-timeout-seconds", "2",
        "--http-max-connections", "40", "--max-body-bytes", "1024", "--ocpp-auto-register", "true",
    ]).start()
    yield instance
    instance.stop()


def test_garbage_request_line_is_answered_400_and_closed(server):
    status, _, _, closed = send_raw(server, b"GARBAGE\r\n\r\n")
    assert status == 400
    assert closed


def test_control_byte_in_a_header_is_answered_400_and_closed(server):
    status, _, _, closed = send_raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n")
    assert status == 400
    assert closed


def test_a_100_kb_header_is_answered_431_and_closed(server):
    payload = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    status, _, _, closed = send_raw(server, payload)
    assert status == 431
    assert closed


def test_content_length_with_transfer_encoding_is_answered_400_and_closed(server):
    payload = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    status, _, _, closed = send_raw(server, payload)
    assert status == 400
    assert closed


def test_a_slowloris_socket_is_closed_after_the_header_timeout(tight_server):
    sockets = [connect(tight_server) for _ in range(30)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        # Keep dripping header lines: a read timeout alone would never fire.
        deadline = time.monotonic() + ANSWER_WITHIN
        open_sockets = list(sockets)
        while open_sockets and time.monotonic() < deadline:
            still_open = []
            for sock in open_sockets:
                try:
                    sock.sendall(b"X-Drip: 1\r\n")
                    sock.settimeout(0.01)
                    if sock.recv(4096) == b"":
                        continue
                    still_open.append(sock)
                except socket.timeout:
                    still_open.append(sock)
                except (BrokenPipeError, ConnectionResetError):
                    continue
            open_sockets = still_open
            time.sleep(0.3)
        assert not open_sockets, f"{len(open_sockets)} of 30 slowloris sockets still open"
    finally:
        for sock in sockets:
            sock.close()
    assert tight_server.request("GET", "/health")[0] == 200


def test_an_idle_kept_alive_connection_is_closed(tight_server):
    with connect(tight_server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(ANSWER_WITHIN)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        _, closed = read_until_closed(sock)
        assert closed, "an idle keep-alive connection stayed open"


def test_a_stalled_request_body_is_closed_after_the_idle_timeout(tight_server):
    with connect(tight_server) as sock:
        sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"email\":")
        _, closed = read_until_closed(sock)
        assert closed, "a connection whose body stalled stayed open"


def test_connections_over_the_maximum_are_refused_with_503(tight_server):
    held = [connect(tight_server) for _ in range(40)]
    try:
        time.sleep(0.5)
        status, headers, _, closed = send_raw(tight_server, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 503
        assert closed
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + ANSWER_WITHIN
    while tight_server.request("GET", "/health")[0] != 200:
        assert time.monotonic() < deadline, "slots were not released after the connections closed"
        time.sleep(0.1)


def test_health_answers_promptly_after_a_junk_flood(tight_server):
    flood = []
    try:
        for _ in range(300):
            try:
                sock = connect(tight_server)
                sock.sendall(b"GET / HTTP/1.1\r\nX-Junk")
                flood.append(sock)
            except OSError:
                pass
        # The header timeout (2 s) reaps the junk; /health must then answer without waiting for the
        # flood's sockets to be closed by their owner.
        deadline = time.monotonic() + ANSWER_WITHIN
        while True:
            try:
                if tight_server.request("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "/health did not recover after the flood"
            time.sleep(0.2)
    finally:
        for sock in flood:
            sock.close()


def chunked(body: bytes, size: int = 512) -> bytes:
    out = b""
    for start in range(0, len(body), size):
        piece = body[start:start + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def test_a_chunked_body_over_the_limit_is_413_problem(tight_server):
    body = json.dumps({"email": "a@b.c", "password": "x" * 4096}).encode()
    payload = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body))
    status, headers, _, _ = send_raw(tight_server, payload)
    assert status == 413
    assert headers["content-type"].startswith("application/problem+json")


def test_an_invalid_chunk_size_is_400_problem(tight_server):
    payload = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n")
    status, headers, _, closed = send_raw(tight_server, payload)
    assert status == 400
    assert headers["content-type"].startswith("application/problem+json")
    assert closed


def test_the_offered_subprotocol_is_echoed_exactly(tight_server):
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /ocpp/CP-CASE HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Protocol: OCPP1.6\r\n\r\n").encode()
    with connect(tight_server) as sock:
        sock.sendall(request)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            assert chunk, "closed before the handshake answer"
            raw += chunk
    status, headers, _ = parse(raw)
    assert status == 101
    assert headers["sec-websocket-protocol"] == "OCPP1.6"


def test_an_upgraded_ocpp_websocket_outlives_the_http_timeouts(tight_server):
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /ocpp/CP-LONG HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode()
    with connect(tight_server) as sock:
        sock.sendall(request)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(4096)
            assert chunk, "closed before the handshake answer"
            raw += chunk
        assert parse(raw)[0] == 101
        # Twice the header and idle timeouts (2 s each): only the WebSocket's own ping/pong governs it now.
        _, closed = read_until_closed(sock, within=5.0)
        assert not closed, "the HTTP timeouts closed an upgraded WebSocket"
