"""Hostile OCPP against the real binary: unknown actions by the thousand, stuck handshakes, and
charger passwords that must never be shown back."""
import asyncio
import base64
import json
import os
import random
import socket
import threading
import time

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from harness import Server

# The per-charger throttle is lifted: 3,000 CALLs at its default 50/s would take a minute, and
# these tests are about what each answer and metric looks like (test_rate_limits.py has the throttle).
ENV = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4",
       "CSMS_OCPP_CALL_TIMEOUT_SECONDS": "5", "CSMS_OCPP_MAX_MESSAGES_PER_SECOND": "0"}
CHARGER_KEY = "Fresh-Charger-Key-7391-abcdef"


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=ENV).start()
    yield instance
    instance.stop()


def admin(server):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": "root@example.com", "password": "root-password-1"})
    assert status == 200
    return {"Authorization": "Bearer " + body["accessToken"]}


def make_station(server, headers, station_id):
    body = {"id": station_id, "name": station_id, "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 150}]}
    status, created, _ = server.json("POST", "/api/v1/stations", body, headers)
    assert status == 201, created


def metrics_text(server):
    status, _, raw = server.request("GET", "/metrics")
    assert status == 200
    return raw.decode()


def test_thousands_of_unknown_actions_are_answered_and_keep_metrics_small(server):
    headers = admin(server)
    make_station(server, headers, "CP-NOISY")
    before = len(metrics_text(server))
    count, window = 3000, 50
    rng = random.Random(8)

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-NOISY", subprotocols=["ocpp1.6"]) as ws:
            for start in range(0, count, window):
                sent = {}
                for index in range(start, min(count, start + window)):
                    action = "X" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))
                    sent[f"u{index}"] = action
                    await ws.send(json.dumps([2, f"u{index}", action, {}]))
                for _ in sent:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    assert reply[0] == 4 and reply[1] in sent and reply[2] == "NotImplemented", reply
                    assert reply[4] == {}
            await ws.send('[2, "hb", "Heartbeat", {}]')
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert reply[0] == 3 and reply[1] == "hb"

    asyncio.run(scenario())
    text = metrics_text(server)
    assert 'action="unknown"' in text
    assert "Xa" not in text and len([line for line in text.splitlines() if 'action="X' in line]) == 0
    # A handful of new series at most, not one per action (3,000 would add some 300 KB).
    assert len(text) - before < 10_000, len(text) - before


def raw_upgrade(port, station_id):
    key = base64.b64encode(os.urandom(16)).decode()
    return (f"GET /ocpp/{station_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode()


def test_slow_and_stuck_handshakes_do_not_affect_other_chargers(server):
    headers = admin(server)
    make_station(server, headers, "CP-SLOW")
    make_station(server, headers, "CP-GOOD")
    request = raw_upgrade(server.port, "CP-SLOW")
    # Stuck: half a request line, half the headers, or all of it but the final blank line.
    stuck = []
    for cut in (10, len(request) // 2, len(request) - 2) * 10:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(request[:cut])
        stuck.append(sock)
    # Slow: one byte at a time, on a thread of its own, while the good charger works.
    dribblers = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
    stop = threading.Event()

    def dribble():
        for index in range(len(request) - 2):
            if stop.wait(0.05):
                return
            for sock in dribblers:
                try:
                    sock.send(request[index:index + 1])
                except OSError:
                    pass

    async def scenario():
        started = time.monotonic()
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-GOOD", subprotocols=["ocpp1.6"],
                                      open_timeout=10) as ws:
            await ws.send('[2, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]')
            boot = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert boot[0] == 3 and boot[2]["status"] == "Accepted"
            for index in range(5):
                await ws.send(f'[2, "h{index}", "Heartbeat", {{}}]')
                assert json.loads(await asyncio.wait_for(ws.recv(), 10))[1] == f"h{index}"
        status, _, _ = await asyncio.to_thread(server.request, "GET", "/health")
        assert status == 200
        assert time.monotonic() - started < 15

    thread = threading.Thread(target=dribble)
    thread.start()
    try:
        asyncio.run(scenario())
    finally:
        stop.set()
        thread.join()
        for sock in stuck + dribblers:
            sock.close()
    status, station, _ = server.json("GET", "/api/v1/stations/CP-GOOD", headers=headers)
    assert station["registration"] == "accepted"


class KeyedCharger(ChargePoint):
    """Accepts a new AuthorizationKey and, as some chargers do, reads it back in GetConfiguration."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration = {"HeartbeatInterval": "300"}

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **kwargs):
        self.configuration[key] = value
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **kwargs):
        return call_result.GetConfiguration(
            configuration_key=[{"key": name, "readonly": False, "value": value} for name, value in self.configuration.items()],
            unknown_key=[])

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location, **kwargs):
        return call_result.GetDiagnostics(file_name="diag.zip")


def test_authorization_key_is_redacted_everywhere(server):
    headers = admin(server)
    make_station(server, headers, "CP-KEYED")
    password = "Hostile-Driver-Pass-7391"
    status, body, _ = server.json("POST", "/api/v1/auth/register",
                                  {"email": "driver@example.com", "password": password, "name": "Driver"})
    assert status == 201, body
    status, login, _ = server.json("POST", "/api/v1/auth/login", {"email": "driver@example.com", "password": password})
    driver = {"Authorization": "Bearer " + login["accessToken"]}

    async def scenario():
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-KEYED", subprotocols=["ocpp1.6"])
        charger = KeyedCharger("CP-KEYED", ws)
        task = asyncio.create_task(charger.start())
        await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        await charger.call(call.Authorize(id_tag="OTHER-DRIVER-1"))
        status, body, _ = await asyncio.to_thread(
            server.json, "POST", "/api/v1/stations/CP-KEYED/commands/change-configuration",
            {"key": "AuthorizationKey", "value": CHARGER_KEY}, headers)
        assert status == 200 and body["status"] == "Accepted", body
        assert charger.configuration["AuthorizationKey"] == CHARGER_KEY
        status, body, _ = await asyncio.to_thread(
            server.json, "POST", "/api/v1/stations/CP-KEYED/ocpp/ChangeConfiguration",
            {"key": "BasicAuthPassword", "value": CHARGER_KEY + "-basic"}, headers)
        assert status == 200, body
        status, body, _ = await asyncio.to_thread(
            server.json, "POST", "/api/v1/stations/CP-KEYED/ocpp/GetDiagnostics",
            {"location": "ftp://diag:" + CHARGER_KEY + "@files.example.com/upload"}, headers)
        assert status == 200, body
        status, body, _ = await asyncio.to_thread(server.json, "POST", "/api/v1/stations/CP-KEYED/commands/get-configuration", {}, headers)
        assert status == 200, body

        status, public, _ = await asyncio.to_thread(server.json, "GET", "/api/v1/stations/CP-KEYED", None, driver)
        assert status == 200
        assert "connection" not in public and "configuration" not in public
        assert CHARGER_KEY not in json.dumps(public) and "OTHER-DRIVER-1" not in json.dumps(public)
        status, listed, _ = await asyncio.to_thread(server.json, "GET", "/api/v1/stations", None, driver)
        assert status == 200 and CHARGER_KEY not in json.dumps(listed)

        status, full, _ = await asyncio.to_thread(server.json, "GET", "/api/v1/stations/CP-KEYED", None, headers)
        assert full["connection"]["connected"] is True and full["connection"]["lastMessages"]
        assert full["configuration"]["HeartbeatInterval"] == "300"
        assert CHARGER_KEY not in json.dumps(full)
        status, log, _ = await asyncio.to_thread(server.json, "GET", "/api/v1/stations/CP-KEYED/ocpp-log?limit=500", None, headers)
        assert status == 200
        dumped = json.dumps(log)
        assert "ChangeConfiguration" in dumped and "AuthorizationKey" in dumped
        assert CHARGER_KEY not in dumped
        task.cancel()
        await ws.close()

    asyncio.run(scenario())
    assert CHARGER_KEY not in server.log_text()
