"""Interop for the typed OCPP engine (issue 9), through the real binary with the `ocpp` package:
the passthrough gets the same effects as the typed command, the message log pairs calls and
answers, and a charger's answer that breaks its schema is a 502 naming the field."""
import asyncio
import base64

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from test_ocpp16 import ENV, admin, connected, in_thread, make_station, server  # noqa: F401  (fixture)

OLD_KEY = "0123456789abcdefOLD"
NEW_KEY = "fedcba9876543210NEW!"


class KeyChangingCharger(ChargePoint):
    """Accepts a new AuthorizationKey (as a 1.6 security-profile-1 charger does) and answers
    TriggerMessage with a status no schema allows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = []
        self.answer_change = "Accepted"

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **kwargs):
        self.keys.append((key, value))
        return call_result.ChangeConfiguration(status=self.answer_change)


async def connect(server, station_id, password):
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"],
                                  additional_headers={"Authorization": "Basic " + token})
    charger = KeyChangingCharger(station_id, ws)
    task = asyncio.create_task(charger.start())
    return ws, charger, task


async def refused(server, station_id, password):
    try:
        ws, _, task = await connect(server, station_id, password)
    except websockets.exceptions.InvalidStatus as error:
        return error.response.status_code
    task.cancel()
    await ws.close()
    return 101


def test_passthrough_authorization_key_switches_the_stored_password(server):  # noqa: F811
    headers = admin(server)
    make_station(server, headers, "CP-KEY")
    status, _, _ = server.json("PUT", "/api/v1/stations/CP-KEY/credentials", {"password": OLD_KEY}, headers)
    assert status == 204

    async def scenario():
        ws, charger, task = await connect(server, "CP-KEY", OLD_KEY)
        await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        # Too short for a key we could store: refused before anything is sent.
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-KEY/ocpp/ChangeConfiguration",
                                          {"key": "AuthorizationKey", "value": "short"}, headers)
        assert status == 422 and charger.keys == [], body
        # A schema violation names the field.
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-KEY/ocpp/ChangeConfiguration",
                                          {"key": "AuthorizationKey"}, headers)
        assert status == 422 and "value" in str(body), body
        # Rejected by the charger: nothing changes.
        charger.answer_change = "Rejected"
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-KEY/ocpp/ChangeConfiguration",
                                          {"key": "AuthorizationKey", "value": NEW_KEY}, headers)
        assert status == 200 and body == {"response": {"status": "Rejected"}}
        assert await refused(server, "CP-KEY", NEW_KEY) == 401
        # Accepted: the stored password is the new key, exactly as the typed command does it.
        charger.answer_change = "Accepted"
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-KEY/ocpp/ChangeConfiguration",
                                          {"key": "AuthorizationKey", "value": NEW_KEY}, headers)
        assert status == 200 and body == {"response": {"status": "Accepted"}}
        assert charger.keys[-1] == ("AuthorizationKey", NEW_KEY)
        task.cancel()
        await ws.close()
        assert await refused(server, "CP-KEY", OLD_KEY) == 401
        ws, charger, task = await connect(server, "CP-KEY", NEW_KEY)
        response = await charger.call(call.Heartbeat())
        assert response.current_time
        task.cancel()
        await ws.close()

    asyncio.run(scenario())
    # The key never reaches the message log or the station's configuration in plain text.
    status, log, _ = server.json("GET", "/api/v1/stations/CP-KEY/ocpp-log?limit=100", None, headers)
    assert status == 200 and NEW_KEY not in str(log)
    status, station, _ = server.json("GET", "/api/v1/stations/CP-KEY", None, headers)
    assert NEW_KEY not in str(station)
    assert station["configuration"]["AuthorizationKey"] == "[redacted]"


def test_message_log_pairs_calls_and_answers(server):  # noqa: F811
    headers = admin(server)
    make_station(server, headers, "CP-LOG")

    async def scenario():
        ws, charger, task = await connected(server, "CP-LOG")
        await charger.call(call.Heartbeat())
        status, body, _ = await in_thread(server.json, "POST", "/api/v1/stations/CP-LOG/commands/reset", {"type": "Soft"}, headers)
        assert status == 200
        await ws.send('[2,"bad-1","Authorize",{}]')
        await asyncio.sleep(0.3)
        task.cancel()
        await ws.close()

    asyncio.run(scenario())
    status, log, _ = server.json("GET", "/api/v1/stations/CP-LOG/ocpp-log?limit=50", None, headers)
    assert status == 200
    rows = {row["action"]: row for row in log["items"]}
    heartbeat = rows["Heartbeat"]
    assert heartbeat["direction"] == "in" and heartbeat["messageType"] == 2 and heartbeat["messageId"]
    assert heartbeat["answer"]["messageType"] == 3 and heartbeat["answer"]["payload"].startswith(f'[3,"{heartbeat["messageId"]}"')
    reset = rows["Reset"]
    assert reset["direction"] == "out" and reset["messageId"] and '"Reset"' in reset["payload"]
    assert reset["answer"]["messageType"] == 3 and reset["messageId"] in reset["answer"]["payload"]
    refused_call = rows["Authorize"]
    assert refused_call["messageId"] == "bad-1" and refused_call["answer"]["messageType"] == 4
    assert "ProtocolError" in refused_call["answer"]["payload"]


def test_an_answer_that_breaks_its_schema_is_a_502_naming_the_field(server):  # noqa: F811
    headers = admin(server)
    make_station(server, headers, "CP-ODD")

    async def scenario():
        ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-ODD", subprotocols=["ocpp1.6"])
        request = asyncio.create_task(in_thread(server.json, "POST", "/api/v1/stations/CP-ODD/commands/reset", {"type": "Soft"}, headers))
        frame = await asyncio.wait_for(ws.recv(), 5)
        message_id = frame.split('"')[1]
        await ws.send(f'[3,"{message_id}",{{"status":"Maybe"}}]')
        status, body, _ = await request
        assert status == 502, body
        assert body["errors"][0]["field"] == "response.status", body
        await ws.close()

    asyncio.run(scenario())
    status, _, metrics = server.request("GET", "/metrics")
    assert 'ocpp_refused_frames_total{kind="charger_response"} 1' in metrics.decode()
