"""Per-client rate limits and the per-charger OCPP throttle, through the real binary."""
import asyncio
import json
import time

import websockets

from harness import Server

ADMIN = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4"}


def login(server, email, password, headers=None):
    return server.json("POST", "/api/v1/auth/login", {"email": email, "password": password}, headers)


def bearer(body):
    return {"Authorization": "Bearer " + body["accessToken"]}


def register_driver(server, email):
    status, body, _ = server.json("POST", "/api/v1/auth/register", {"email": email, "password": "driver-pass-1", "name": email})
    assert status == 201, body
    status, body, _ = login(server, email, "driver-pass-1")
    assert status == 200, body
    return bearer(body)


def test_a_driver_over_the_read_limit_gets_429_while_another_driver_is_unaffected(data_dir):
    # A long window: on a loaded machine seconds pass between requests, and no token may come back
    # meanwhile (one per 120 s).
    server = Server(data_dir, env={**ADMIN, "CSMS_RATE_LIMIT_READS": "5/600s", "CSMS_RATE_LIMIT_AUTH": "10/60s"}).start()
    try:
        first = register_driver(server, "first@example.com")
        second = register_driver(server, "second@example.com")
        for remaining in range(4, -1, -1):
            status, _, headers = server.json("GET", "/api/v1/stations", headers=first)
            assert status == 200
            assert headers["RateLimit-Policy"] == '"reads";q=5;w=600'
            assert headers["RateLimit"] == f'"reads";r={remaining};t=0'
        status, problem, headers = server.json("GET", "/api/v1/stations", headers=first)
        assert status == 429
        assert headers["Content-Type"] == "application/problem+json"
        assert problem["type"].endswith("/problems/rate-limited") and problem["status"] == 429
        # The next token is due 120 s after the first request, less the time these took.
        retry_after = int(headers["Retry-After"])
        assert 90 <= retry_after <= 120, retry_after
        assert headers["RateLimit"] == f'"reads";r=0;t={retry_after}'

        status, _, _ = server.json("GET", "/api/v1/stations", headers=second)
        assert status == 200
        # The limited driver's sign-ins are a separate limit: it can still log in.
        status, _, _ = login(server, "first@example.com", "driver-pass-1")
        assert status == 200

        status, _, raw = server.request("GET", "/metrics")
        assert 'http_rate_limited_total{class="reads"} 1' in raw.decode()
        # Health and metrics are never limited: probes and scrapers keep working.
        for _ in range(10):
            assert server.request("GET", "/health")[0] == 200
    finally:
        server.stop()


def test_the_login_limit_counts_per_client_address_behind_a_trusted_proxy(data_dir):
    server = Server(data_dir, env={**ADMIN, "CSMS_RATE_LIMIT_AUTH": "2/600s", "CSMS_TRUSTED_PROXIES": "127.0.0.1"}).start()
    try:
        attacker = {"X-Forwarded-For": "198.51.100.7"}
        for _ in range(2):
            assert login(server, "root@example.com", "wrong-password", attacker)[0] == 401
        status, problem, headers = login(server, "root@example.com", "root-password-1", attacker)
        assert status == 429 and headers["RateLimit-Policy"] == '"auth";q=2;w=600'
        # A hop the client wrote to the left of the real one is not believed.
        spoofed = {"X-Forwarded-For": "203.0.113.1, 198.51.100.7"}
        assert login(server, "root@example.com", "root-password-1", spoofed)[0] == 429
        # Another client behind the same proxy signs in.
        status, body, _ = login(server, "root@example.com", "root-password-1", {"X-Forwarded-For": "198.51.100.8"})
        assert status == 200, body
    finally:
        server.stop()


def test_a_charger_flooding_calls_is_answered_later_and_nothing_is_dropped(data_dir):
    server = Server(data_dir, env={**ADMIN, "CSMS_OCPP_MAX_MESSAGES_PER_SECOND": "10"}).start()
    try:
        status, body, _ = login(server, "root@example.com", "root-password-1")
        admin = bearer(body)
        status, created, _ = server.json("POST", "/api/v1/stations", {
            "id": "CP-FLOOD", "name": "Flood", "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 50}]}, admin)
        assert status == 201, created
        status, _, _ = server.json("PUT", "/api/v1/id-tags/FLOODTAG", {"status": "Accepted"}, admin)
        assert status in (200, 201)

        async def flood():
            async with websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-FLOOD", subprotocols=["ocpp1.6"]) as ws:
                await ws.send(json.dumps([2, "boot", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]))
                assert json.loads(await ws.recv())[2]["status"] == "Accepted"
                started = time.monotonic()
                # 30 at once, a StartTransaction among the Heartbeats: every one is answered, in order.
                ids = [f"m{index}" for index in range(30)]
                for index, message_id in enumerate(ids):
                    if index == 15:
                        await ws.send(json.dumps([2, message_id, "StartTransaction", {
                            "connectorId": 1, "idTag": "FLOODTAG", "meterStart": 0, "timestamp": "2026-11-28T10:00:00Z"}]))
                    else:
                        await ws.send(json.dumps([2, message_id, "Heartbeat", {}]))
                answers = [json.loads(await asyncio.wait_for(ws.recv(), 20)) for _ in ids]
                return answers, time.monotonic() - started

        answers, elapsed = asyncio.run(flood())
        assert [answer[1] for answer in answers] == [f"m{index}" for index in range(30)]
        assert all(answer[0] == 3 for answer in answers)
        assert answers[15][2]["idTagInfo"]["status"] == "Accepted"
        # 10 from the full bucket, 20 more at 10 a second.
        assert elapsed >= 1.5
        status, sessions, _ = server.json("GET", "/api/v1/sessions?stationId=CP-FLOOD", headers=admin)
        assert status == 200 and len(sessions["items"]) == 1
        status, _, raw = server.request("GET", "/metrics")
        throttled = [line for line in raw.decode().splitlines() if line.startswith("ocpp_throttled_calls_total ")]
        assert throttled and float(throttled[0].split()[1]) >= 1
    finally:
        server.stop()
