"""Hostile numbers and clocks from a charger: every transaction message is answered, the server
stays up, implausible data never reaches a session's energy or an invoice, and an alert says why."""
import asyncio
import datetime
import itertools
import json

import pytest
import websockets

from harness import Server

ENV = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4"}
# A peak window makes pricing cut the span by time of day: the case that used to walk 2,000 years day by day.
TARIFF = {"name": "Peak", "currency": "EUR", "energyPrice": "0.30", "timePrice": "1.20", "sessionFee": "0.99",
          "taxRatePercent": "19", "timeZone": "Europe/Berlin",
          "windows": [{"start": "10:00", "end": "11:00", "energyPrice": "0.50", "timePrice": "2.00"}]}
message_ids = itertools.count(1)


def now_iso(offset_seconds=0):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def admin(server):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": "root@example.com", "password": "root-password-1"})
    assert status == 200
    return {"Authorization": "Bearer " + body["accessToken"]}


def priced_station(server, headers, station_id):
    status, tariff, _ = server.json("POST", "/api/v1/tariffs", TARIFF, headers)
    assert status == 201, tariff
    status, created, _ = server.json("POST", "/api/v1/stations", {
        "id": station_id, "name": station_id, "tariffId": tariff["id"],
        "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 150},
                       {"connectorId": 2, "type": "CCS2", "maxPowerKw": 150}]}, headers)
    assert status == 201, created
    server.json("PUT", "/api/v1/id-tags/RFID1", {"status": "Accepted"}, headers)


class RawCharger:
    """Sends exactly the frames a test writes, so that nothing validates or rounds them on the way."""

    def __init__(self, ws):
        self.ws = ws

    async def call(self, action, payload, timeout=10):
        message_id = f"m{next(message_ids)}"
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame[0] in (3, 4) and frame[1] == message_id:
                return frame


async def connect(server, station_id):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"])
    charger = RawCharger(ws)
    boot = await charger.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"})
    assert boot[0] == 3, boot
    return ws, charger


def result(frame):
    assert frame[0] == 3, f"expected a CALLRESULT, got {frame}"
    return frame[2]


def session_of(server, headers, transaction_id):
    status, page, _ = server.json("GET", "/api/v1/sessions?limit=100", headers=headers)
    assert status == 200
    return next(item for item in page["items"] if item["transactionId"] == transaction_id)


def alerts_for(server, headers, station_id):
    status, page, _ = server.json("GET", f"/api/v1/alerts?stationId={station_id}&limit=100", headers=headers)
    assert status == 200
    return [alert for alert in page["items"] if alert["kind"] == "implausible_charger_data"]


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=ENV).start()
    yield instance
    instance.stop()


def test_implausible_meter_values_are_answered_flagged_and_not_applied(server):
    headers = admin(server)
    priced_station(server, headers, "CP-HOSTILE-MV")

    async def scenario():
        ws, charger = await connect(server, "CP-HOSTILE-MV")
        start = result(await charger.call("StartTransaction", {
            "connectorId": 1, "idTag": "RFID1", "meterStart": 1000, "timestamp": now_iso(-600)}))
        transaction_id = start["transactionId"]
        plausible = {"timestamp": now_iso(-300), "sampledValue": [
            {"value": "3000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}
        assert result(await charger.call("MeterValues", {
            "connectorId": 1, "transactionId": transaction_id, "meterValue": [plausible]})) == {}
        for value, unit in [("1e300", "kWh"), ("9.3e18", "Wh"), ("-1e300", "Wh"), ("NaN", "Wh"), ("1e300", "kW")]:
            measurand = "Power.Active.Import" if unit == "kW" else "Energy.Active.Import.Register"
            answer = await charger.call("MeterValues", {"connectorId": 1, "transactionId": transaction_id, "meterValue": [
                {"timestamp": now_iso(-200), "sampledValue": [{"value": value, "measurand": measurand, "unit": unit}]}]})
            assert result(answer) == {}, (value, unit)
        await ws.close()
        return transaction_id

    transaction_id = asyncio.run(scenario())
    assert server.request("GET", "/health")[0] == 200
    session = session_of(server, headers, transaction_id)
    assert session["status"] == "active"
    assert session["energyWh"] == 2000, "only the plausible reading moves the session"
    assert session.get("currentPowerW") is None
    assert "implausible_meter_value" in session["flags"]
    alerts = alerts_for(server, headers, "CP-HOSTILE-MV")
    assert [alert["details"]["problem"] for alert in alerts] == ["implausible_meter_value"]


def test_huge_meter_start_and_stop_close_the_session_flagged_without_invoice(server):
    headers = admin(server)
    priced_station(server, headers, "CP-HOSTILE-METER")

    async def scenario():
        ws, charger = await connect(server, "CP-HOSTILE-METER")
        first = result(await charger.call("StartTransaction", {
            "connectorId": 1, "idTag": "RFID1", "meterStart": -8000000000000000, "timestamp": now_iso(-600)}))
        stop = await charger.call("StopTransaction", {
            "transactionId": first["transactionId"], "meterStop": 8000000000000000, "timestamp": now_iso(), "reason": "Local"})
        assert result(stop) == {}
        second = result(await charger.call("StartTransaction", {
            "connectorId": 2, "idTag": "RFID1", "meterStart": 1000, "timestamp": now_iso(-600)}))
        stop = await charger.call("StopTransaction", {
            "transactionId": second["transactionId"], "meterStop": 8000000000000000, "timestamp": now_iso(), "reason": "Local"})
        assert result(stop) == {}
        await ws.close()
        return first["transactionId"], second["transactionId"]

    first, second = asyncio.run(scenario())
    assert server.request("GET", "/health")[0] == 200
    for transaction_id, flag in [(first, "implausible_meter_start"), (second, "implausible_meter_stop")]:
        session = session_of(server, headers, transaction_id)
        assert session["status"] == "completed"
        assert flag in session["flags"]
        assert session.get("invoiceId") is None
        assert 0 <= session["energyWh"] <= 10 ** 12
    problems = {alert["details"]["problem"] for alert in alerts_for(server, headers, "CP-HOSTILE-METER")}
    assert {"implausible_meter_start", "implausible_meter_stop"} <= problems
    status, invoices, _ = server.json("GET", "/api/v1/invoices", headers=headers)
    assert invoices["items"] == []


@pytest.mark.parametrize("clock", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"])
def test_implausible_charger_clocks_use_server_time_and_flag_the_session(server, clock):
    headers = admin(server)
    priced_station(server, headers, "CP-HOSTILE-CLOCK")

    async def scenario():
        ws, charger = await connect(server, "CP-HOSTILE-CLOCK")
        start = result(await charger.call("StartTransaction", {
            "connectorId": 1, "idTag": "RFID1", "meterStart": 1000, "timestamp": clock}))
        again = result(await charger.call("StartTransaction", {
            "connectorId": 1, "idTag": "RFID1", "meterStart": 1000, "timestamp": clock}))
        assert again["transactionId"] == start["transactionId"], "a retried start is still recognised"
        return ws, charger, start["transactionId"]

    async def stop(ws, charger, transaction_id):
        answer = await charger.call("StopTransaction", {
            "transactionId": transaction_id, "meterStop": 5000, "timestamp": clock, "reason": "Local"})
        assert result(answer) == {}
        await ws.close()

    ws, charger, transaction_id = asyncio.run(scenario())
    # An active session with that start is read (and priced) promptly.
    status, _, _ = server.request("GET", f"/api/v1/sessions/{session_of(server, headers, transaction_id)['id']}", headers=headers)
    assert status == 200

    async def finish():
        ws, charger = await connect(server, "CP-HOSTILE-CLOCK")
        await stop(ws, charger, transaction_id)
    asyncio.run(finish())
    session = session_of(server, headers, transaction_id)
    assert session["status"] == "completed"
    assert session["startedAt"] >= "2020", session["startedAt"]
    assert "implausible_timestamp" in session["flags"]
    assert session.get("invoiceId") is None
    assert session["energyWh"] == 4000
    assert "implausible_timestamp" in {alert["details"]["problem"] for alert in alerts_for(server, headers, "CP-HOSTILE-CLOCK")}
    assert server.request("GET", "/health/ready")[0] == 200


def test_a_stop_with_a_huge_meter_retried_across_a_restart_never_crashes(data_dir):
    server = Server(data_dir, env=ENV).start()
    try:
        headers = admin(server)
        priced_station(server, headers, "CP-HOSTILE-RETRY")
        stop_payload = {"meterStop": 8000000000000000, "timestamp": now_iso(), "reason": "Local"}

        async def start_and_stop():
            ws, charger = await connect(server, "CP-HOSTILE-RETRY")
            start = result(await charger.call("StartTransaction", {
                "connectorId": 1, "idTag": "RFID1", "meterStart": -8000000000000000, "timestamp": now_iso(-60)}))
            stop_payload["transactionId"] = start["transactionId"]
            assert result(await charger.call("StopTransaction", stop_payload)) == {}
            await ws.close()

        asyncio.run(start_and_stop())
        assert server.stop(sig=9) == -9
        for _ in range(2):
            server = Server(data_dir, env=ENV)
            server.start()

            async def retry():
                ws, charger = await connect(server, "CP-HOSTILE-RETRY")
                assert result(await charger.call("StopTransaction", stop_payload)) == {}
                await ws.close()

            asyncio.run(retry())
            assert server.request("GET", "/health")[0] == 200
            assert server.process.poll() is None
            server.stop()
        server = Server(data_dir, env=ENV).start()
        headers = admin(server)
        session = session_of(server, headers, stop_payload["transactionId"])
        assert session["status"] == "completed" and session.get("invoiceId") is None
        assert "implausible_meter_start" in session["flags"]
    finally:
        server.stop()
