"""Interop: the public Python `ocpp` package plays the charge point against the real server."""
import asyncio
import base64
import json

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from harness import Server

ENV = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4",
       "CSMS_OCPP_CALL_TIMEOUT_SECONDS": "5"}


class SimulatedCharger(ChargePoint):
    """Answers the central system's calls the way a well-behaved charger does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.remote_starts = []
        self.remote_stops = []
        self.resets = []

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, **kwargs):
        self.remote_starts.append((id_tag, connector_id))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id, **kwargs):
        self.remote_stops.append(transaction_id)
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(Action.reset)
    def on_reset(self, type, **kwargs):
        self.resets.append(type)
        return call_result.Reset(status="Accepted")

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **kwargs):
        return call_result.GetConfiguration(
            configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}], unknown_key=[])


def admin(server):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": "root@example.com", "password": "root-password-1"})
    assert status == 200
    return {"Authorization": "Bearer " + body["accessToken"]}


def make_station(server, headers, station_id, tariff_id=None):
    body = {"id": station_id, "name": station_id,
            "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 150}, {"connectorId": 2, "type": "Type2", "maxPowerKw": 22}]}
    if tariff_id:
        body["tariffId"] = tariff_id
    status, created, _ = server.json("POST", "/api/v1/stations", body, headers)
    assert status == 201, created


async def connected(server, station_id, **kwargs):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"], **kwargs)
    charger = SimulatedCharger(station_id, ws)
    task = asyncio.create_task(charger.start())
    return ws, charger, task


async def in_thread(function, *args):
    return await asyncio.to_thread(function, *args)


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=ENV).start()
    yield instance
    instance.stop()


def test_full_session_boot_to_invoice(server):
    headers = admin(server)
    status, tariff, _ = server.json("POST", "/api/v1/tariffs",
                                    {"name": "Flat", "currency": "EUR", "energyPrice": "0.40", "taxRatePercent": "20"}, headers)
    make_station(server, headers, "CP-INTEROP-1", tariff["id"])
    server.json("PUT", "/api/v1/id-tags/RFID1", {"status": "Accepted"}, headers)

    async def scenario():
        ws, charger, task = await connected(server, "CP-INTEROP-1")
        boot = await charger.call(call.BootNotification(charge_point_model="Model-X", charge_point_vendor="Acme",
                                                        firmware_version="1.2.3", charge_point_serial_number="SN-1"))
        assert boot.status == "Accepted" and boot.interval == 300
        assert boot.current_time.endswith("Z")
        heartbeat = await charger.call(call.Heartbeat())
        assert heartbeat.current_time.endswith("Z")
        await charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        auth = await charger.call(call.Authorize(id_tag="rfid1"))
        assert auth.id_tag_info["status"] == "Accepted"
        unknown = await charger.call(call.Authorize(id_tag="NOBODY"))
        assert unknown.id_tag_info["status"] == "Invalid"
        await charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        start = await charger.call(call.StartTransaction(connector_id=1, id_tag="RFID1", meter_start=1000,
                                                         timestamp="2026-03-10T09:00:00Z"))
        assert start.id_tag_info["status"] == "Accepted" and start.transaction_id > 0
        again = await charger.call(call.StartTransaction(connector_id=1, id_tag="RFID1", meter_start=1000,
                                                         timestamp="2026-03-10T09:00:00Z"))
        assert again.transaction_id == start.transaction_id
        await charger.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id, meter_value=[
            {"timestamp": "2026-03-10T09:30:00.123456Z", "sampledValue": [
                {"value": "6.0", "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W"},
                {"value": "41.5", "measurand": "Temperature", "unit": "Celcius"}]}]))
        stop = await charger.call(call.StopTransaction(meter_stop=11000, timestamp="2026-03-10T10:00:00+01:00",
                                                       transaction_id=start.transaction_id, reason="Local", id_tag="RFID1"))
        assert stop.id_tag_info["status"] == "Accepted"
        unknown_stop = await charger.call(call.StopTransaction(meter_stop=1, timestamp="2026-03-10T10:00:00",
                                                               transaction_id=999999))
        assert unknown_stop.id_tag_info is None
        await charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        task.cancel()
        await ws.close()
        return start.transaction_id

    transaction_id = asyncio.run(scenario())
    status, sessions, _ = server.json("GET", "/api/v1/sessions?stationId=CP-INTEROP-1", headers=headers)
    session = sessions["items"][0]
    assert session["transactionId"] == transaction_id
    assert session["status"] == "completed"
    # 09:00Z to 10:00+01:00 (09:00Z) — the stop's offset counts; energy 11000 - 1000 = 10 kWh.
    assert session["energyWh"] == 10000
    status, invoice, _ = server.json("GET", f"/api/v1/invoices/{session['invoiceId']}", headers=headers)
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("4.00", "0.80", "4.80")
    status, history, _ = server.json("GET", "/api/v1/stations/CP-INTEROP-1/status-history", headers=headers)
    statuses = [(entry["kind"], entry["status"]) for entry in history["items"]]
    assert ("connector", "Charging") in statuses and ("connectivity", "online") in statuses
    status, station, _ = server.json("GET", "/api/v1/stations/CP-INTEROP-1", headers=headers)
    assert station["vendor"] == "Acme" and station["firmwareVersion"] == "1.2.3" and station["serialNumber"] == "SN-1"
    status, alerts, _ = server.json("GET", "/api/v1/alerts", headers=headers)
    assert "unknown_transaction" in [alert["kind"] for alert in alerts["items"]]
    status, log, _ = server.json("GET", "/api/v1/stations/CP-INTEROP-1/ocpp-log?limit=100", headers=headers)
    actions = [entry["action"] for entry in log["items"] if entry["direction"] == "in"]
    assert "BootNotification" in actions and "StopTransaction" in actions


def test_remote_commands_passthrough_and_app_charging(server):
    headers = admin(server)
    status, tariff, _ = server.json("POST", "/api/v1/tariffs",
                                    {"name": "App", "currency": "EUR", "energyPrice": "0.3499", "sessionFee": "0.50"}, headers)
    make_station(server, headers, "CP-REMOTE", tariff["id"])
    status, registered, _ = server.json("POST", "/api/v1/auth/register",
                                        {"email": "driver@example.com", "password": "driver-pass", "name": "Driver"})
    status, login, _ = server.json("POST", "/api/v1/auth/login", {"email": "driver@example.com", "password": "driver-pass"})
    driver = {"Authorization": "Bearer " + login["accessToken"]}

    async def scenario():
        ws, charger, task = await connected(server, "CP-REMOTE")
        await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/me/charging/start",
                                          {"stationId": "CP-REMOTE", "connectorId": 1}, driver)
        assert status == 200 and body["status"] == "Accepted", body
        app_token, connector = charger.remote_starts[0]
        assert app_token.startswith("APP") and connector == 1
        start = await charger.call(call.StartTransaction(connector_id=1, id_tag=app_token, meter_start=0,
                                                         timestamp="2026-03-10T09:00:00Z"))
        status, sessions, _ = await in_thread(server.json, "GET", "/api/v1/sessions?status=active", None, driver)
        session_id = sessions["items"][0]["id"]
        await charger.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id, meter_value=[
            {"timestamp": "2026-03-10T09:05:00Z", "sampledValue": [{"value": "4200", "unit": "Wh"}]}]))
        status, live, _ = await in_thread(server.json, "GET", f"/api/v1/sessions/{session_id}", None, driver)
        assert live["energyWh"] == 4200 and live["estimatedCost"]["currency"] == "EUR"
        status, body, _ = await in_thread(server.json, "POST", f"/api/v1/me/charging/{session_id}/stop", {}, driver)
        assert status == 200 and charger.remote_stops == [start.transaction_id]
        await charger.call(call.StopTransaction(meter_stop=8000, timestamp="2026-03-10T09:10:00Z",
                                                transaction_id=start.transaction_id, reason="Remote"))
        status, invoices, _ = await in_thread(server.json, "GET", "/api/v1/invoices", None, driver)
        # 8 kWh × 0.3499 = 2.7992 → 2.80, plus the 0.50 fee: the invoice the driver sees.
        assert [invoice["total"] for invoice in invoices["items"]] == ["3.30"]
        assert [line["amount"] for line in invoices["items"][0]["lines"]] == ["2.80", "0.50"]

        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-REMOTE/commands/reset", {"type": "Soft"}, headers)
        assert status == 200 and body == {"status": "Accepted"} and charger.resets == ["Soft"]
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-REMOTE/commands/reset", {"type": "Warm"}, headers)
        assert status == 422
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-REMOTE/commands/unlock", {"connectorId": 9}, headers)
        assert status == 422

        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-REMOTE/ocpp/GetConfiguration",
                                          {"key": ["HeartbeatInterval"]}, headers)
        assert status == 200
        assert body["response"]["configurationKey"][0]["key"] == "HeartbeatInterval"
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-REMOTE/ocpp/Reset", {"type": "Nope"}, headers)
        assert status == 422
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-REMOTE/commands/get-configuration", {}, headers)
        assert status == 200
        status, station, _ = await in_thread(server.json, "GET", "/api/v1/stations/CP-REMOTE", None, headers)
        assert station["configuration"] == {"HeartbeatInterval": "300"}
        assert station["connection"]["connected"] is True
        task.cancel()
        await ws.close()

    asyncio.run(scenario())
    status, body, _ = server.json("POST", "/api/v1/stations/CP-REMOTE/commands/reset", {"type": "Soft"}, headers)
    assert status == 409


def test_reconnect_replaces_the_old_connection(server):
    headers = admin(server)
    make_station(server, headers, "CP-TWICE")

    async def scenario():
        first_ws, first, first_task = await connected(server, "CP-TWICE")
        await first.call(call.Heartbeat())
        second_ws, second, second_task = await connected(server, "CP-TWICE")
        await second.call(call.Heartbeat())
        await asyncio.wait_for(first_ws.wait_closed(), 5)
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-TWICE/commands/reset", {"type": "Hard"}, headers)
        assert status == 200
        assert second.resets == ["Hard"] and first.resets == []
        for task in (first_task, second_task):
            task.cancel()
        await second_ws.close()

    asyncio.run(scenario())


def test_refused_handshakes(server):
    headers = admin(server)
    make_station(server, headers, "CP-LOCKED")
    status, _, _ = server.json("PUT", "/api/v1/stations/CP-LOCKED/credentials", {"password": "0123456789abcdefXYZ"}, headers)
    assert status == 204

    async def status_of(path, **kwargs):
        try:
            ws = await websockets.connect(f"ws://127.0.0.1:{server.port}{path}", **kwargs)
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code, refused.response.headers
        await ws.close()
        return 101, {}

    async def scenario():
        code, _ = await status_of("/ocpp/NOT-A-STATION", subprotocols=["ocpp1.6"])
        assert code == 404
        code, response_headers = await status_of("/ocpp/CP-LOCKED", subprotocols=["ocpp1.6"])
        assert code == 401 and response_headers["WWW-Authenticate"].startswith("Basic")
        bad = base64.b64encode(b"CP-LOCKED:wrong-password-here").decode()
        code, _ = await status_of("/ocpp/CP-LOCKED", subprotocols=["ocpp1.6"], additional_headers={"Authorization": "Basic " + bad})
        assert code == 401
        good = base64.b64encode(b"CP-LOCKED:0123456789abcdefXYZ").decode()
        code, _ = await status_of("/ocpp/CP-LOCKED", subprotocols=["ocpp1.6"], additional_headers={"Authorization": "Basic " + good})
        assert code == 101
        code, _ = await status_of("/ocpp/CP-LOCKED", subprotocols=["ocpp2.0.1"], additional_headers={"Authorization": "Basic " + good})
        assert code == 400
        code, _ = await status_of("/ocpp/CP-LOCKED", additional_headers={"Authorization": "Basic " + good})
        assert code == 400

    asyncio.run(scenario())


def test_malformed_messages_get_the_right_callerror(server):
    headers = admin(server)
    make_station(server, headers, "CP-RAW")

    async def scenario():
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-RAW", subprotocols=["ocpp1.6"])

        async def exchange(frame):
            await ws.send(frame)
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

        cases = [
            ("not json", "FormationViolation"),
            ('{"a": 1}', "FormationViolation"),
            ('[2, "m1", "BootNotification", {"chargePointVendor": "V"}]', "ProtocolError"),
            ('[2, "m2", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M", "colour": "red"}]', "FormationViolation"),
            ('[2, "m3", "BootNotification", {"chargePointVendor": 7, "chargePointModel": "M"}]', "TypeConstraintViolation"),
            ('[2, "m4", "BootNotification", {"chargePointVendor": "' + "V" * 21 + '", "chargePointModel": "M"}]', "TypeConstraintViolation"),
            ('[2, "m5", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}]', "PropertyConstraintViolation"),
            ('[2, "m6", "StatusNotification", {"connectorId": -1, "errorCode": "NoError", "status": "Available"}]', "PropertyConstraintViolation"),
            ('[2, "m7", "MeterValues", {"connectorId": 1, "meterValue": []}]', "OccurenceConstraintViolation"),
            ('[2, "m8", "FlyToTheMoon", {}]', "NotImplemented"),
            ('[2, "m9", "Reset", {"type": "Hard"}]', "NotSupported"),
            ('[2, "m10", "StartTransaction", {"connectorId": 1, "idTag": "X", "meterStart": 0, "timestamp": "yesterday"}]', "TypeConstraintViolation"),
        ]
        for frame, code in cases:
            reply = await exchange(frame)
            assert reply[0] == 4 and reply[2] == code, (frame, reply)
            assert reply[4] == {}
        # A null payload is an empty one; a valid message is still answered after all the errors.
        reply = await exchange('[2, "ok1", "Heartbeat", null]')
        assert reply[0] == 3 and reply[1] == "ok1" and "currentTime" in reply[2]
        # Accepted timestamps: 0-9 fractional digits, Z, offsets, or no offset.
        for stamp in ("2026-03-10T09:00:00.123456Z", "2026-03-10T09:00:00Z", "2026-03-10T09:00:00+02:00", "2026-03-10T09:00:00"):
            reply = await exchange('[2, "t", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "%s"}]' % stamp)
            assert reply[0] == 3, (stamp, reply)
        # An unknown message type is ignored; the next message is answered.
        await ws.send('[7, "x", {}]')
        reply = await exchange('[2, "ok2", "Heartbeat", {}]')
        assert reply[1] == "ok2"
        await ws.close()

    asyncio.run(scenario())


def test_rejected_charger_gets_security_error_until_accepted(server):
    headers = admin(server)
    make_station(server, headers, "CP-REJECT")
    server.json("PATCH", "/api/v1/stations/CP-REJECT", {"registration": "rejected"}, headers)

    async def scenario():
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-REJECT", subprotocols=["ocpp1.6"])
        await ws.send('[2, "b1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]')
        boot = json.loads(await ws.recv())
        assert boot[2]["status"] == "Rejected"
        await ws.send('[2, "h1", "Heartbeat", {}]')
        assert json.loads(await ws.recv())[2] == "SecurityError"
        await asyncio.to_thread(server.json, "PATCH", "/api/v1/stations/CP-REJECT", {"registration": "accepted"}, headers)
        await ws.send('[2, "b2", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]')
        assert json.loads(await ws.recv())[2]["status"] == "Accepted"
        await ws.send('[2, "h2", "Heartbeat", {}]')
        assert json.loads(await ws.recv())[0] == 3
        await ws.close()

    asyncio.run(scenario())


def test_a_silent_peer_is_reaped_and_the_station_goes_offline(data_dir):
    import base64 as b64
    import os
    import socket
    import time

    server = Server(data_dir, env={**ENV, "CSMS_OCPP_PING_INTERVAL_SECONDS": "1"}).start()
    headers = admin(server)
    make_station(server, headers, "CP-SILENT")
    # A raw handshake, then silence: pings go unanswered, as from a charger that lost power.
    sock = socket.create_connection(("127.0.0.1", server.port))
    key = b64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ocpp/CP-SILENT HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())
    assert b"101" in sock.recv(1024).split(b"\r\n")[0]

    def state():
        return server.json("GET", "/api/v1/stations/CP-SILENT", headers=headers)[1]

    # The upgrade is answered before the connection is registered; wait for it to show.
    deadline = time.monotonic() + 3
    while not (state()["online"] and state()["connection"]["connected"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    station = state()
    assert station["online"] is True and station["connection"]["connected"] is True
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, station, _ = server.json("GET", "/api/v1/stations/CP-SILENT", headers=headers)
        if not station["connection"]["connected"]:
            break
        time.sleep(0.3)
    assert station["connection"]["connected"] is False and station["online"] is False
    sock.close()
    server.stop()


def test_auto_registration_pending_data_transfer_statuses_frame_limit_and_metrics(data_dir):
    server = Server(data_dir, env={**ENV, "CSMS_OCPP_AUTO_REGISTER": "true", "CSMS_OCPP_MAX_FRAME_BYTES": "70000"}).start()
    headers = admin(server)

    async def scenario():
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/NEW-CHARGER", subprotocols=["ocpp1.6"],
                                      max_size=None)

        async def exchange(frame):
            await ws.send(frame)
            return json.loads(await asyncio.wait_for(ws.recv(), 5))

        boot = await exchange('[2, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]')
        assert boot[2]["status"] == "Pending"
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/NEW-CHARGER/commands/remote-start",
                                          {"connectorId": 1, "idTag": "X"}, headers)
        assert status in (409, 422)  # pending (and, having no connectors yet, no connector 1)
        assert (await exchange('[2, "d1", "DataTransfer", {"vendorId": "nobody"}]'))[2] == {"status": "UnknownVendorId"}
        assert (await exchange('[2, "d2", "DataTransfer", {"vendorId": "csms", "messageId": "Nope"}]'))[2] == {"status": "UnknownMessageId"}
        assert (await exchange('[2, "d3", "DataTransfer", {"vendorId": "csms", "messageId": "Echo", "data": "hi"}]'))[2] == {
            "status": "Accepted", "data": "hi"}
        assert (await exchange('[2, "f", "FirmwareStatusNotification", {"status": "Installing"}]'))[0] == 3
        assert (await exchange('[2, "g", "DiagnosticsStatusNotification", {"status": "Uploaded"}]'))[0] == 3
        # Within the configured 70000 bytes a large message is fine; over it the connection is closed.
        big = '[2, "big", "DataTransfer", {"vendorId": "csms", "messageId": "Echo", "data": "' + "x" * 60000 + '"}]'
        assert (await exchange(big))[2]["data"] == "x" * 60000
        await ws.send('[2, "huge", "DataTransfer", {"vendorId": "csms", "data": "' + "x" * 80000 + '"}]')
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)

    asyncio.run(scenario())
    status, station, _ = server.json("GET", "/api/v1/stations/NEW-CHARGER", headers=headers)
    assert station["registration"] == "pending"
    assert station["firmwareStatus"] == "Installing" and station["diagnosticsStatus"] == "Uploaded"
    status, _, raw = server.request("GET", "/metrics")
    text = raw.decode()
    assert "ocpp_connected_charge_points" in text
    assert 'ocpp_messages_total{direction="in",action="DataTransfer",result="result"}' in text
    server.stop()
