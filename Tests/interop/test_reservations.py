"""Interop for reservations (OCPP 1.6 Reservation profile) and sites, through the real binary with
the `ocpp` package as the charger: what the charger is sent, what it answers, and what the server
keeps of it."""
import asyncio
import base64
import http.client
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from ocpp.exceptions import InternalError
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from harness import Server
from test_ocpp16 import ENV, SimulatedCharger, admin, in_thread, make_station

# Short call timeout for the no-answer case; a driver maximum other than the default, to see it is read;
# a short event heartbeat, so the server notices a closed event stream before it is stopped.
RESERVATION_ENV = {**ENV, "CSMS_OCPP_CALL_TIMEOUT_SECONDS": "2", "CSMS_RESERVATION_MAX_MINUTES": "20",
                   "CSMS_EVENT_HEARTBEAT_SECONDS": "1"}
CHARGER_PASSWORD = "0123456789abcdefRESV"
OPEN = ("pending", "active")


class ReservingCharger(SimulatedCharger):
    """A charger with the Reservation profile: keeps every ReserveNow and CancelReservation it is
    sent and answers what the test sets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reserve_nows = []
        self.cancels = []
        self.reserve_answer = "Accepted"
        self.cancel_answer = "Accepted"
        self.reserve_delay = 0.0

    @on(Action.reserve_now)
    async def on_reserve_now(self, connector_id, expiry_date, id_tag, reservation_id, parent_id_tag=None, **kwargs):
        self.reserve_nows.append({"connector_id": connector_id, "expiry_date": expiry_date, "id_tag": id_tag,
                                  "reservation_id": reservation_id, "parent_id_tag": parent_id_tag})
        if self.reserve_answer == "CALLERROR":
            raise InternalError(description="reservation store is full")
        if self.reserve_delay:
            await asyncio.sleep(self.reserve_delay)
        return call_result.ReserveNow(status=self.reserve_answer)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id, **kwargs):
        self.cancels.append(reservation_id)
        return call_result.CancelReservation(status=self.cancel_answer)


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=RESERVATION_ENV).start()
    yield instance
    instance.stop()


def stamp(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    """An ISO 8601 time from the wire, whatever its number of fractional digits."""
    if "." in text:
        head, tail = text.split(".", 1)
        digits = "".join(c for c in tail if c.isdigit())
        text = head + "." + (digits + "000000")[:6] + tail[len(digits):]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def in_minutes(minutes):
    return stamp(datetime.now(timezone.utc) + timedelta(minutes=minutes))


class Api:
    """The HTTP API from inside the event loop (the harness's client blocks)."""

    def __init__(self, server, headers):
        self.server = server
        self.headers = headers

    async def __call__(self, method, path, body=None, headers=None):
        status, payload, _ = await in_thread(self.server.json, method, path, body, headers or self.headers)
        return status, payload

    async def reserve(self, station_id, connector_id, id_tag, expires_at=None):
        return await self("POST", "/api/v1/reservations", {"stationId": station_id, "connectorId": connector_id,
                                                            "idTag": id_tag, "expiresAt": expires_at or in_minutes(10)})

    async def reservation(self, reservation):
        status, body = await self("GET", f"/api/v1/reservations/{reservation['id']}")
        assert status == 200, body
        return body

    async def reserved_connectors(self):
        status, body = await self("GET", "/api/v1/stations/availability")
        assert status == 200, body
        return body["connectorsByStatus"]["Reserved"], body["connectorsByStatus"]["Available"]


def station_with_password(server, headers, station_id):
    make_station(server, headers, station_id)
    status, body, _ = server.json("PUT", f"/api/v1/stations/{station_id}/credentials", {"password": CHARGER_PASSWORD}, headers)
    assert status == 204, body


def accept_tag(server, headers, tag, **fields):
    status, body, _ = server.json("PUT", f"/api/v1/id-tags/{tag}", {"status": "Accepted", **fields}, headers)
    assert status in (200, 201), body


async def plugged_in(server, station_id):
    """A charger connected with Basic auth, booted, with both connectors Available."""
    token = base64.b64encode(f"{station_id}:{CHARGER_PASSWORD}".encode()).decode()
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"],
                                  additional_headers={"Authorization": "Basic " + token})
    charger = ReservingCharger(station_id, ws)
    task = asyncio.create_task(charger.start())
    boot = await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
    assert boot.status == "Accepted"
    for connector in (1, 2):
        await charger.call(call.StatusNotification(connector_id=connector, error_code="NoError", status="Available"))
    return ws, charger, task


async def unplug(ws, task):
    task.cancel()
    await ws.close()


async def start(charger, connector_id, id_tag, reservation_id=None):
    started = await charger.call(call.StartTransaction(connector_id=connector_id, id_tag=id_tag, meter_start=0,
                                                       timestamp=stamp(datetime.now(timezone.utc)),
                                                       reservation_id=reservation_id))
    assert started.id_tag_info["status"] == "Accepted", started
    return started.transaction_id


async def stop(charger, transaction_id):
    await charger.call(call.StopTransaction(meter_stop=1000, timestamp=stamp(datetime.now(timezone.utc)),
                                            transaction_id=transaction_id))


def events_after(server, headers, station_id, wanted, timeout=5.0):
    """The reservation events of `station_id` replayed from the start of the SSE stream, until
    `wanted` of them have arrived."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    connection.request("GET", f"/api/v1/events?stationId={station_id}", headers={**headers, "Last-Event-ID": "0"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/event-stream")
    found, event_type = [], None
    deadline = time.monotonic() + timeout
    try:
        while len(found) < wanted and time.monotonic() < deadline:
            line = response.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event_type = line[len("event: "):]
            elif line.startswith("data: ") and event_type and event_type.startswith("reservation."):
                found.append((event_type, json.loads(line[len("data: "):])))
    finally:
        connection.close()
    return found


def test_an_accepted_reservation_is_active_shown_reserved_and_used_by_the_start_naming_it(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-1")
    accept_tag(server, headers, "RFID1")
    api = Api(server, headers)
    expires_at = in_minutes(10)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-RES-1")
        reserved_before, available_before = await api.reserved_connectors()
        assert reserved_before == 0 and available_before == 2
        status, created = await api.reserve("CP-RES-1", 1, "RFID1", expires_at)
        assert status == 201, created
        assert (created["status"], created["chargerAnswer"], created["reservationId"]) == ("active", "Accepted", 1)
        assert (created["stationId"], created["connectorId"], created["idTag"]) == ("CP-RES-1", 1, "RFID1")
        assert parse(created["expiresAt"]) == parse(expires_at)
        assert created["createdBy"] and created.get("driverId") is None
        assert all(created.get(field) is None for field in ("cancelAnswer", "failure", "sessionId", "transactionId", "endedAt"))
        sent = charger.reserve_nows
        assert len(sent) == 1
        assert (sent[0]["reservation_id"], sent[0]["connector_id"], sent[0]["id_tag"]) == (1, 1, "RFID1")
        assert parse(sent[0]["expiry_date"]) == parse(expires_at)
        assert (await api.reservation(created))["status"] == "active"
        # The connector is Available as far as the charger said, but held: it counts as Reserved.
        assert await api.reserved_connectors() == (1, 1)

        transaction_id = await start(charger, 1, "RFID1", reservation_id=1)
        used = await api.reservation(created)
        status, sessions = await api("GET", "/api/v1/sessions?stationId=CP-RES-1")
        session = sessions["items"][0]
        assert session["transactionId"] == transaction_id
        assert (used["status"], used["transactionId"], used["sessionId"]) == ("used", transaction_id, session["id"])
        assert used["endedAt"] is not None and used["version"] > created["version"]
        assert await api.reserved_connectors() == (0, 2)
        await unplug(ws, task)

    asyncio.run(scenario())
    # The stream tells of the reservation's life: stored pending, answered active, then used.
    events = events_after(server, headers, "CP-RES-1", 3)
    assert [(kind, body["status"]) for kind, body in events] == [
        ("reservation.created", "pending"), ("reservation.updated", "active"), ("reservation.updated", "used")]


def test_a_start_without_reservation_id_uses_the_reservation_of_its_tag_or_parent(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-2")
    accept_tag(server, headers, "RFID2")
    accept_tag(server, headers, "OTHER")
    accept_tag(server, headers, "FLEET")
    accept_tag(server, headers, "CHILD-A", parentIdTag="FLEET")
    accept_tag(server, headers, "CHILD-B", parentIdTag="FLEET")
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-RES-2")
        status, reservation = await api.reserve("CP-RES-2", 2, "RFID2")
        assert status == 201 and reservation["status"] == "active", reservation
        # Another tag on another connector leaves it alone.
        other = await start(charger, 1, "OTHER")
        assert (await api.reservation(reservation))["status"] == "active"
        own = await start(charger, 2, "RFID2")
        used = await api.reservation(reservation)
        assert (used["status"], used["transactionId"]) == ("used", own)
        for transaction_id in (other, own):
            await stop(charger, transaction_id)

        # Connector 0 is any connector; a sibling tag under the same parent takes it.
        status, any_connector = await api.reserve("CP-RES-2", 0, "CHILD-A")
        assert status == 201 and any_connector["status"] == "active", any_connector
        assert any_connector["parentIdTag"] == "FLEET" and any_connector["reservationId"] == 2
        assert charger.reserve_nows[-1]["parent_id_tag"] == "FLEET" and charger.reserve_nows[-1]["connector_id"] == 0
        sibling = await start(charger, 1, "CHILD-B")
        used = await api.reservation(any_connector)
        assert (used["status"], used["transactionId"]) == ("used", sibling)
        await unplug(ws, task)

    asyncio.run(scenario())


def test_a_refused_reservation_is_kept_refused_and_an_open_one_blocks_its_connector_and_tag(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-3")
    for tag in ("RFID3", "RFID4"):
        accept_tag(server, headers, tag)
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-RES-3")
        charger.reserve_answer = "Occupied"
        status, refused = await api.reserve("CP-RES-3", 1, "RFID3")
        assert status == 201, refused
        assert (refused["status"], refused["chargerAnswer"], refused["reservationId"]) == ("refused", "Occupied", 1)
        assert refused["endedAt"] is not None
        assert await api.reserved_connectors() == (0, 2)

        # A refused reservation holds nothing: the same connector and tag can be reserved again.
        charger.reserve_answer = "Accepted"
        status, active = await api.reserve("CP-RES-3", 1, "RFID3")
        assert status == 201 and (active["status"], active["reservationId"]) == ("active", 2), active
        status, body = await api.reserve("CP-RES-3", 1, "RFID4")
        assert status == 409, body
        status, body = await api.reserve("CP-RES-3", 2, "RFID3")
        assert status == 409, body
        assert [sent["reservation_id"] for sent in charger.reserve_nows] == [1, 2]
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-3")
        assert sorted(item["status"] for item in listed["items"]) == ["active", "refused"]
        await unplug(ws, task)

    asyncio.run(scenario())


def test_cancel_sends_cancel_reservation_and_a_second_cancel_is_a_conflict(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-4")
    accept_tag(server, headers, "RFID5")
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-RES-4")
        status, reservation = await api.reserve("CP-RES-4", 1, "RFID5")
        assert status == 201 and reservation["status"] == "active", reservation
        status, cancelled = await api("DELETE", f"/api/v1/reservations/{reservation['id']}")
        assert status == 200, cancelled
        assert (cancelled["status"], cancelled["cancelAnswer"]) == ("cancelled", "Accepted")
        assert cancelled["endedAt"] is not None and charger.cancels == [1]
        assert (await api.reservation(reservation))["status"] == "cancelled"
        assert await api.reserved_connectors() == (0, 2)
        status, body = await api("DELETE", f"/api/v1/reservations/{reservation['id']}")
        assert status == 409, body
        assert charger.cancels == [1]

        # Rejected: the charger holds no such reservation, so ours ends as well.
        status, again = await api.reserve("CP-RES-4", 1, "RFID5")
        assert status == 201 and (again["status"], again["reservationId"]) == ("active", 2), again
        charger.cancel_answer = "Rejected"
        status, cancelled = await api("DELETE", f"/api/v1/reservations/{again['id']}")
        assert status == 200 and (cancelled["status"], cancelled["cancelAnswer"]) == ("cancelled", "Rejected"), cancelled
        assert charger.cancels == [1, 2]
        status, body = await api("DELETE", "/api/v1/reservations/no-such-reservation")
        assert status == 404, body
        await unplug(ws, task)

    asyncio.run(scenario())


def test_an_open_reservation_past_its_time_expires(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-5")
    accept_tag(server, headers, "RFID6")
    api = Api(server, headers)
    expires_at = stamp(datetime.now(timezone.utc) + timedelta(seconds=4))

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-RES-5")
        status, reservation = await api.reserve("CP-RES-5", 1, "RFID6", expires_at)
        assert status == 201 and reservation["status"] == "active", reservation
        deadline = time.monotonic() + 15
        current = reservation
        while current["status"] == "active" and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            current = await api.reservation(reservation)
        assert current["status"] == "expired", current
        assert parse(current["endedAt"]) == parse(expires_at)
        # Expiry is the charger's own business too: nothing is sent to it.
        assert charger.cancels == []
        assert await api.reserved_connectors() == (0, 2)
        status, body = await api("DELETE", f"/api/v1/reservations/{reservation['id']}")
        assert status == 409, body
        await unplug(ws, task)

    asyncio.run(scenario())


def register_driver(server, email):
    status, registered, _ = server.json("POST", "/api/v1/auth/register",
                                        {"email": email, "password": "driver-pass-123", "name": email.split("@")[0]})
    assert status == 201, registered
    status, login, _ = server.json("POST", "/api/v1/auth/login", {"email": email, "password": "driver-pass-123"})
    assert status == 200, login
    return registered["driverId"], {"Authorization": "Bearer " + login["accessToken"]}


def test_a_driver_reserves_through_the_app_and_sees_only_their_own(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-6")
    accept_tag(server, headers, "RFID7")
    driver_id, driver = register_driver(server, "alice@example.com")
    _, stranger = register_driver(server, "bob@example.com")
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-RES-6")
        status, operators = await api.reserve("CP-RES-6", 2, "RFID7")
        assert status == 201, operators

        status, body = await api("POST", "/api/v1/me/reservations", {"stationId": "CP-RES-6", "connectorId": 1, "minutes": 21}, driver)
        assert status == 422 and "minutes" in str(body), body
        status, body = await api("POST", "/api/v1/me/reservations", {"stationId": "CP-RES-6", "connectorId": 1, "minutes": 0}, driver)
        assert status == 422 and "minutes" in str(body), body
        status, body = await api("POST", "/api/v1/reservations", {"stationId": "CP-RES-6", "connectorId": 1, "idTag": "RFID7",
                                                                   "expiresAt": in_minutes(5)}, driver)
        assert status == 403, body
        assert len(charger.reserve_nows) == 1

        before = datetime.now(timezone.utc)
        status, mine = await api("POST", "/api/v1/me/reservations", {"stationId": "CP-RES-6", "connectorId": 1, "minutes": 20}, driver)
        assert status == 201, mine
        assert (mine["status"], mine["driverId"], mine["connectorId"]) == ("active", driver_id, 1)
        assert mine["idTag"].startswith("APP"), mine
        assert abs((parse(mine["expiresAt"]) - before).total_seconds() - 20 * 60) < 30
        assert charger.reserve_nows[-1]["id_tag"] == mine["idTag"] and charger.reserve_nows[-1]["reservation_id"] == 2

        status, listed = await api("GET", "/api/v1/reservations", None, driver)
        assert status == 200 and [item["id"] for item in listed["items"]] == [mine["id"]]
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-6", None, driver)
        assert [item["id"] for item in listed["items"]] == [mine["id"]]
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-6")
        assert sorted(item["id"] for item in listed["items"]) == sorted([mine["id"], operators["id"]])
        status, listed = await api("GET", f"/api/v1/reservations?driverId={driver_id}")
        assert [item["id"] for item in listed["items"]] == [mine["id"]]
        status, body = await api("GET", f"/api/v1/reservations/{operators['id']}", None, driver)
        assert status == 404, body

        status, body = await api("GET", f"/api/v1/reservations/{mine['id']}", None, stranger)
        assert status == 404, body
        status, body = await api("DELETE", f"/api/v1/reservations/{mine['id']}", None, stranger)
        assert status == 404, body
        status, listed = await api("GET", "/api/v1/reservations", None, stranger)
        assert status == 200 and listed["items"] == []
        assert charger.cancels == []

        status, cancelled = await api("DELETE", f"/api/v1/reservations/{mine['id']}", None, driver)
        assert status == 200 and cancelled["status"] == "cancelled" and charger.cancels == [2], cancelled
        await unplug(ws, task)

    asyncio.run(scenario())


def test_reserve_now_and_cancel_reservation_through_the_passthrough_have_the_same_effect(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-7")
    accept_tag(server, headers, "RFID8")
    accept_tag(server, headers, "RFID9")
    api = Api(server, headers)
    expires_at = in_minutes(15)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-RES-7")
        status, body = await api("POST", "/api/v1/stations/CP-RES-7/ocpp/ReserveNow",
                                 {"connectorId": 1, "expiryDate": expires_at, "idTag": "RFID8", "reservationId": 77})
        assert status == 200 and body == {"response": {"status": "Accepted"}}, body
        assert charger.reserve_nows[0]["reservation_id"] == 77
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-7")
        assert status == 200 and len(listed["items"]) == 1, listed
        stored = listed["items"][0]
        assert (stored["reservationId"], stored["status"], stored["chargerAnswer"]) == (77, "active", "Accepted")
        assert (stored["connectorId"], stored["idTag"]) == (1, "RFID8")
        assert parse(stored["expiresAt"]) == parse(expires_at)
        assert await api.reserved_connectors() == (1, 1)

        # Ids stay unique on the station: the API's next one is not the charger's 77.
        status, typed = await api.reserve("CP-RES-7", 2, "RFID9")
        assert status == 201 and typed["reservationId"] != 77, typed

        status, body = await api("POST", "/api/v1/stations/CP-RES-7/ocpp/CancelReservation", {"reservationId": 77})
        assert status == 200 and body == {"response": {"status": "Accepted"}}, body
        assert charger.cancels == [77]
        cancelled = await api.reservation(stored)
        assert (cancelled["status"], cancelled["cancelAnswer"]) == ("cancelled", "Accepted")
        assert (await api.reservation(typed))["status"] == "active"
        await unplug(ws, task)

    asyncio.run(scenario())


def test_refusals_before_the_charger_and_failures_at_it(server):
    headers = admin(server)
    station_with_password(server, headers, "CP-RES-8")
    accept_tag(server, headers, "RFID10")
    status, _, _ = server.json("PUT", "/api/v1/id-tags/BLOCKED1", {"status": "Blocked"}, headers)
    assert status in (200, 201)
    api = Api(server, headers)

    async def scenario():
        # Not connected: refused, and nothing is stored.
        status, body = await api.reserve("CP-RES-8", 1, "RFID10")
        assert status == 409, body
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-8")
        assert status == 200 and listed["items"] == [], listed

        status, body = await api.reserve("CP-NOWHERE", 1, "RFID10")
        assert status == 404, body
        ws, charger, task = await plugged_in(server, "CP-RES-8")
        for connector, tag, expires_at, field in [
            (9, "RFID10", in_minutes(10), "connectorId"),
            (1, "NOBODY", in_minutes(10), "idTag"),
            (1, "BLOCKED1", in_minutes(10), "idTag"),
            (1, "RFID10", in_minutes(-1), "expiresAt"),
            (1, "RFID10", in_minutes(8 * 24 * 60), "expiresAt"),
        ]:
            status, body = await api.reserve("CP-RES-8", connector, tag, expires_at)
            assert status == 422 and field in str(body), (connector, tag, expires_at, body)
        assert charger.reserve_nows == []

        # A CALLERROR: 502, kept as failed, and the connector is free again.
        charger.reserve_answer = "CALLERROR"
        status, body = await api.reserve("CP-RES-8", 1, "RFID10")
        assert status == 502, body
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-8")
        [failed] = listed["items"]
        assert failed["status"] == "failed" and "InternalError" in failed["failure"], failed
        assert failed.get("chargerAnswer") is None and failed["endedAt"] is not None

        # No answer in time (2 s here): 504, failed; the answer that comes late changes nothing.
        charger.reserve_answer, charger.reserve_delay = "Accepted", 3.0
        status, body = await api.reserve("CP-RES-8", 1, "RFID10")
        assert status == 504, body
        await asyncio.sleep(1.5)
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-8&status=failed")
        assert len(listed["items"]) == 2, listed
        status, listed = await api("GET", "/api/v1/reservations?stationId=CP-RES-8")
        assert [item for item in listed["items"] if item["status"] in OPEN] == [], listed
        assert len(listed["items"]) == 2, listed
        await unplug(ws, task)

    asyncio.run(scenario())


def test_a_site_lists_its_stations_and_cannot_be_deleted_while_it_has_any(server):
    headers = admin(server)
    make_station(server, headers, "CP-SITE-1")
    make_station(server, headers, "CP-SITE-2")

    status, site, _ = server.json("POST", "/api/v1/sites", {"name": "Depot", "address": "Hafenstr. 1", "timeZone": "Europe/Berlin",
                                                            "maxPowerKw": 250}, headers)
    assert status == 201, site
    assert (site["name"], site["address"], site["timeZone"], site["maxPowerKw"]) == ("Depot", "Hafenstr. 1", "Europe/Berlin", 250)
    assert site["stationIds"] == [] and site["id"] and site["createdAt"] and "version" in site
    status, body, _ = server.json("POST", "/api/v1/sites", {"name": "Bad", "timeZone": "Mars/Olympus"}, headers)
    assert status == 422 and "timeZone" in str(body), body

    status, station, _ = server.json("PATCH", "/api/v1/stations/CP-SITE-1", {"siteId": site["id"]}, headers)
    assert status == 200 and station["siteId"] == site["id"], station
    status, body, _ = server.json("PATCH", "/api/v1/stations/CP-SITE-2", {"siteId": "no-such-site"}, headers)
    assert status == 422 and "siteId" in str(body), body
    status, fetched, _ = server.json("GET", f"/api/v1/sites/{site['id']}", headers=headers)
    assert status == 200 and fetched["stationIds"] == ["CP-SITE-1"], fetched
    status, listed, _ = server.json("GET", "/api/v1/sites", headers=headers)
    assert [(item["id"], item["stationIds"]) for item in listed["items"]] == [(site["id"], ["CP-SITE-1"])]
    status, stations, _ = server.json("GET", f"/api/v1/stations?siteId={site['id']}", headers=headers)
    assert [item["id"] for item in stations["items"]] == ["CP-SITE-1"]

    status, body, _ = server.json("DELETE", f"/api/v1/sites/{site['id']}", headers=headers)
    assert status == 409, body
    status, station, _ = server.json("PATCH", "/api/v1/stations/CP-SITE-1", {"siteId": None}, headers)
    assert status == 200 and station.get("siteId") is None, station
    status, _, raw = server.request("DELETE", f"/api/v1/sites/{site['id']}", headers=headers)
    assert status == 204, raw
    status, body, _ = server.json("GET", f"/api/v1/sites/{site['id']}", headers=headers)
    assert status == 404, body

    _, driver = register_driver(server, "carol@example.com")
    status, body, _ = server.json("GET", "/api/v1/sites", headers=driver)
    assert status == 403, body
