"""What the browser tests set up: the API admin, stations, signing in, and an `ocpp` charge point."""
import asyncio

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action


class Charger(ChargePoint):
    """Accepts remote starts and remembers them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.remote_starts = []

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, **kwargs):
        self.remote_starts.append((id_tag, connector_id))
        return call_result.RemoteStartTransaction(status="Accepted")


async def connect(server, station_id):
    """A booted charge point on the server's OCPP endpoint."""
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"])
    charger = Charger(station_id, ws)
    asyncio.ensure_future(charger.start())
    await charger.call(call.BootNotification(charge_point_model="Model-X", charge_point_vendor="Acme"))
    return charger


def api_admin(server):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": "root@example.com", "password": "root-password-1"})
    assert status == 200
    return {"Authorization": "Bearer " + body["accessToken"]}


def make_station(server, headers, station_id, tariff_id=None):
    body = {"id": station_id, "name": f"Depot {station_id}",
            "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 150}, {"connectorId": 2, "type": "Type2", "maxPowerKw": 22}]}
    if tariff_id:
        body["tariffId"] = tariff_id
    status, created, _ = server.json("POST", "/api/v1/stations", body, headers)
    assert status == 201, created


def sign_in(page, server, email="root@example.com", password="root-password-1"):
    page.goto(f"{server.base}/ui/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
