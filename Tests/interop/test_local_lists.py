"""Interop for local authorization lists (OCPP 1.6 Local Auth List Management), through the real
binary with the `ocpp` package as the charger: which SendLocalList frames the charger is sent, full
or differential, and what the server keeps of its answers."""
import asyncio
import time

import pytest
import websockets
from ocpp.exceptions import InternalError
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from harness import Server
from test_ocpp16 import ENV, SimulatedCharger, admin, make_station
from test_reservations import Api, parse, register_driver

# A one-second sync so a stale list goes out while the test waits; a short call timeout for the
# no-answer case; a short event heartbeat, so the server notices a closed event stream before it stops.
LIST_ENV = {**ENV, "CSMS_OCPP_CALL_TIMEOUT_SECONDS": "2", "CSMS_EVENT_HEARTBEAT_SECONDS": "1",
            "CSMS_LOCAL_LIST_SYNC_SECONDS": "1"}
# For the steps that must be the API's alone: a sync that never comes during the test.
MANUAL_ENV = {**LIST_ENV, "CSMS_LOCAL_LIST_SYNC_SECONDS": "3600"}
FLEET_EXPIRY = "2031-01-01T00:00:00Z"


class ListKeepingCharger(SimulatedCharger):
    """A charger with the Local Auth List Management profile: keeps every SendLocalList and
    GetLocalListVersion it is sent and answers what the test sets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lists = []
        self.version_asks = 0
        self.list_answer = "Accepted"
        self.list_delay = 0.0
        self.list_version = 0
        self.max_length = None
        # When set, SendLocalList is answered only once the test opens it.
        self.gate = None

    @on(Action.send_local_list)
    async def on_send_local_list(self, list_version, update_type, local_authorization_list=None, **kwargs):
        self.lists.append({"list_version": list_version, "update_type": update_type,
                           "entries": local_authorization_list})
        if self.gate is not None:
            await self.gate.wait()
        if self.list_answer == "CALLERROR":
            raise InternalError(description="list store is broken")
        if self.list_delay:
            await asyncio.sleep(self.list_delay)
        return call_result.SendLocalList(status=self.list_answer)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **kwargs):
        self.version_asks += 1
        return call_result.GetLocalListVersion(list_version=self.list_version)

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **kwargs):
        keys = [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        if self.max_length is not None:
            keys.append({"key": "SendLocalListMaxLength", "readonly": True, "value": str(self.max_length)})
        return call_result.GetConfiguration(configuration_key=keys, unknown_key=[])


def running(env):
    def fixture(data_dir):
        instance = Server(data_dir, env=env).start()
        yield instance
        instance.stop()
    return pytest.fixture(fixture)


server = running(LIST_ENV)
manual_server = running(MANUAL_ENV)


def put_tag(server, headers, tag, status="Accepted", **fields):
    code, body, _ = server.json("PUT", f"/api/v1/id-tags/{tag}", {"status": status, **fields}, headers)
    assert code in (200, 201), body


async def plugged_in(server, station_id):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"])
    charger = ListKeepingCharger(station_id, ws)
    task = asyncio.create_task(charger.start())
    boot = await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
    assert boot.status == "Accepted"
    return ws, charger, task


async def unplug(ws, task):
    task.cancel()
    await ws.close()


def entries(frame):
    """A frame's list as (idTag, idTagInfo or None), expiry dates parsed so any precision compares."""
    found = []
    for item in frame["entries"] or []:
        info = item.get("id_tag_info")
        if info is not None and "expiry_date" in info:
            info = {**info, "expiry_date": parse(info["expiry_date"])}
        found.append((item["id_tag"], info))
    return found


async def frames(charger, count, timeout=5.0):
    """The charger's SendLocalList frames once `count` have come (the sync is not awaited by anyone)."""
    deadline = time.monotonic() + timeout
    while len(charger.lists) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(charger.lists) >= count, charger.lists
    return charger.lists


async def list_state(api, station_id):
    status, body = await api("GET", f"/api/v1/stations/{station_id}/local-list")
    assert status == 200, body
    return body.get("state")


async def state_once(api, station_id, wanted, timeout=5.0):
    """The station's list state once `wanted` holds (the answer is kept just after the charger sends it)."""
    deadline = time.monotonic() + timeout
    state = await list_state(api, station_id)
    while not wanted(state) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        state = await list_state(api, station_id)
    return state


async def send_list(api, station_id, update_type):
    status, body = await api("POST", f"/api/v1/stations/{station_id}/local-list", {"type": update_type})
    assert status == 200, body
    return body["state"], body.get("sent")


def test_a_full_list_holds_the_cards_not_app_tokens_and_a_blocked_card_goes_out_by_itself(server):
    headers = admin(server)
    make_station(server, headers, "CP-LL-1")
    put_tag(server, headers, "CARD-A")
    put_tag(server, headers, "CARD-B", parentIdTag="FLEET")
    put_tag(server, headers, "FLEET", expiresAt=FLEET_EXPIRY)
    register_driver(server, "dora@example.com")
    status, apps, _ = server.json("GET", "/api/v1/id-tags?kind=app", headers=headers)
    assert status == 200 and len(apps["items"]) == 1 and apps["items"][0]["id"].startswith("APP"), apps
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-LL-1")
        state, sent = await send_list(api, "CP-LL-1", "full")
        assert sent == {"updateType": "full", "listVersion": 1, "entries": 3, "status": "Accepted"}, sent
        [full] = charger.lists
        assert (full["list_version"], full["update_type"]) == (1, "Full")
        assert entries(full) == [("CARD-A", {"status": "Accepted"}),
                                 ("CARD-B", {"status": "Accepted", "parent_id_tag": "FLEET"}),
                                 ("FLEET", {"status": "Accepted", "expiry_date": parse(FLEET_EXPIRY)})]
        assert (state["stationId"], state["version"], state["confirmedVersion"], state["entries"]) == ("CP-LL-1", 1, 1, 3)
        assert (state["lastStatus"], state["lastUpdateType"], state["stale"], state["needsFull"]) == ("Accepted", "full", False, False)
        assert state["lastSentAt"] and state["updatedAt"]
        assert await list_state(api, "CP-LL-1") == state

        # Held at the charger until the test has seen the list stale and the update on its way.
        charger.gate = asyncio.Event()
        status, body = await api("PUT", "/api/v1/id-tags/CARD-A", {"status": "Blocked"})
        assert status == 200, body
        stale = await list_state(api, "CP-LL-1")
        assert (stale["stale"], stale["confirmedVersion"]) == (True, 1), stale
        # Nobody asks: the background sync sends it.
        _, differential = await frames(charger, 2)
        assert (differential["list_version"], differential["update_type"]) == (2, "Differential")
        assert entries(differential) == [("CARD-A", {"status": "Blocked"})]
        pending = await list_state(api, "CP-LL-1")
        assert (pending["version"], pending["confirmedVersion"], pending["stale"]) == (2, 1, True), pending
        charger.gate.set()
        state = await state_once(api, "CP-LL-1", lambda s: s["confirmedVersion"] == 2 and not s["stale"])
        assert (state["version"], state["confirmedVersion"], state["stale"], state["entries"]) == (2, 2, False, 3), state
        assert (state["lastStatus"], state["lastUpdateType"]) == ("Accepted", "differential")
        assert len(charger.lists) == 2
        await unplug(ws, task)

    asyncio.run(scenario())


def test_a_deleted_card_is_removed_and_a_new_card_added_by_the_sync(server):
    headers = admin(server)
    make_station(server, headers, "CP-LL-2")
    for tag in ("CARD-A", "CARD-B"):
        put_tag(server, headers, tag)
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-LL-2")
        state, sent = await send_list(api, "CP-LL-2", "full")
        assert (sent["listVersion"], state["confirmedVersion"], state["entries"]) == (1, 1, 2), (state, sent)

        status, body = await api("DELETE", "/api/v1/id-tags/CARD-B")
        assert status == 204, body
        _, removal = await frames(charger, 2)
        assert (removal["list_version"], removal["update_type"]) == (2, "Differential")
        # A differential item without idTagInfo removes the tag.
        assert removal["entries"] == [{"id_tag": "CARD-B"}], removal
        state = await state_once(api, "CP-LL-2", lambda s: s["confirmedVersion"] == 2)
        assert (state["confirmedVersion"], state["entries"], state["stale"]) == (2, 1, False), state

        put_tag(server, headers, "CARD-C", expiresAt=FLEET_EXPIRY)
        _, _, addition = await frames(charger, 3)
        assert (addition["list_version"], addition["update_type"]) == (3, "Differential")
        assert entries(addition) == [("CARD-C", {"status": "Accepted", "expiry_date": parse(FLEET_EXPIRY)})]
        state = await state_once(api, "CP-LL-2", lambda s: s["confirmedVersion"] == 3)
        assert (state["confirmedVersion"], state["entries"], state["stale"]) == (3, 2, False), state
        await unplug(ws, task)

    asyncio.run(scenario())


def test_a_differential_update_goes_full_without_an_accepted_version_and_sends_nothing_when_nothing_changed(server):
    headers = admin(server)
    make_station(server, headers, "CP-LL-3")
    put_tag(server, headers, "CARD-A")
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-LL-3")
        state, sent = await send_list(api, "CP-LL-3", "differential")
        assert sent == {"updateType": "full", "listVersion": 1, "entries": 1, "status": "Accepted"}, sent
        assert [(frame["list_version"], frame["update_type"]) for frame in charger.lists] == [(1, "Full")]
        assert state["confirmedVersion"] == 1

        # A new app token is no card: it changes nothing a list holds.
        register_driver(server, "erin@example.com")
        assert (await list_state(api, "CP-LL-3"))["stale"] is False
        state, sent = await send_list(api, "CP-LL-3", "differential")
        assert sent is None
        assert (state["version"], state["confirmedVersion"], state["stale"], state["entries"]) == (1, 1, False, 1), state
        assert len(charger.lists) == 1
        await unplug(ws, task)

    asyncio.run(scenario())


def test_a_version_mismatch_makes_the_next_differential_update_a_full_one(manual_server):
    server = manual_server
    headers = admin(server)
    make_station(server, headers, "CP-LL-4")
    for tag in ("CARD-A", "CARD-B"):
        put_tag(server, headers, tag)
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-LL-4")
        await send_list(api, "CP-LL-4", "full")
        put_tag(server, headers, "CARD-A", "Blocked")
        charger.list_answer = "VersionMismatch"
        state, sent = await send_list(api, "CP-LL-4", "differential")
        assert sent == {"updateType": "differential", "listVersion": 2, "entries": 1, "status": "VersionMismatch"}, sent
        assert (state["version"], state["confirmedVersion"], state["entries"]) == (2, 1, 2), state
        assert (state["needsFull"], state["lastStatus"], state["lastUpdateType"]) == (True, "VersionMismatch", "differential")

        charger.list_answer = "Accepted"
        state, sent = await send_list(api, "CP-LL-4", "differential")
        assert sent == {"updateType": "full", "listVersion": 3, "entries": 2, "status": "Accepted"}, sent
        assert [(frame["list_version"], frame["update_type"]) for frame in charger.lists] == [
            (1, "Full"), (2, "Differential"), (3, "Full")]
        assert entries(charger.lists[2]) == [("CARD-A", {"status": "Blocked"}), ("CARD-B", {"status": "Accepted"})]
        assert (state["confirmedVersion"], state["needsFull"], state["stale"], state["entries"]) == (3, False, False, 2), state

        # Failed and NotSupported are kept as the last answer and change nothing else.
        for answer, version in (("Failed", 4), ("NotSupported", 5)):
            charger.list_answer = answer
            state, sent = await send_list(api, "CP-LL-4", "full")
            assert (sent["listVersion"], sent["status"]) == (version, answer), sent
            assert (state["version"], state["confirmedVersion"], state["lastStatus"]) == (version, 3, answer), state
            assert (state["needsFull"], state["entries"]) == (False, 2), state
        await unplug(ws, task)

    asyncio.run(scenario())


def test_the_chargers_list_version_is_kept_and_the_passthrough_counts_as_a_sent_list(server):
    headers = admin(server)
    make_station(server, headers, "CP-LL-5")
    put_tag(server, headers, "CARD-A")
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-LL-5")
        assert await list_state(api, "CP-LL-5") is None
        charger.list_version = 5
        status, body = await api("POST", "/api/v1/stations/CP-LL-5/commands/get-local-list-version")
        assert status == 200 and body == {"listVersion": 5}, body
        assert charger.version_asks == 1
        state = await list_state(api, "CP-LL-5")
        assert (state["chargerVersion"], state.get("confirmedVersion")) == (5, None), state

        status, body = await api("POST", "/api/v1/stations/CP-LL-5/ocpp/SendLocalList", {
            "listVersion": 7, "updateType": "Full",
            "localAuthorizationList": [{"idTag": "CARD-A", "idTagInfo": {"status": "Accepted"}}]})
        assert status == 200 and body == {"response": {"status": "Accepted"}}, body
        assert [(frame["list_version"], frame["update_type"]) for frame in charger.lists] == [(7, "Full")]
        state = await list_state(api, "CP-LL-5")
        assert (state["version"], state["confirmedVersion"], state["entries"], state["chargerVersion"]) == (7, 7, 1, 5), state
        assert (state["lastStatus"], state["lastUpdateType"], state["stale"]) == ("Accepted", "full", False), state
        charger.list_version = 7
        status, body = await api("POST", "/api/v1/stations/CP-LL-5/commands/get-local-list-version")
        assert status == 200 and body == {"listVersion": 7} and charger.version_asks == 2, body
        assert (await list_state(api, "CP-LL-5"))["chargerVersion"] == 7
        # What the passthrough sent is what the charger holds: nothing to add, and our next version follows it.
        state, sent = await send_list(api, "CP-LL-5", "differential")
        assert sent is None and len(charger.lists) == 1, sent
        state, sent = await send_list(api, "CP-LL-5", "full")
        assert (sent["listVersion"], charger.lists[-1]["list_version"]) == (8, 8), sent
        await unplug(ws, task)

    asyncio.run(scenario())


def test_refusals_before_the_charger_and_failures_at_it(server):
    headers = admin(server)
    make_station(server, headers, "CP-LL-6")
    for tag in ("CARD-A", "CARD-B", "CARD-C"):
        put_tag(server, headers, tag)
    _, driver = register_driver(server, "fred@example.com")
    api = Api(server, headers)

    async def scenario():
        for update_type in ("full", "differential"):
            status, body = await api("POST", "/api/v1/stations/CP-LL-6/local-list", {"type": update_type})
            assert status == 409, body
        assert await list_state(api, "CP-LL-6") is None
        status, body = await api("POST", "/api/v1/stations/CP-NOWHERE/local-list", {"type": "full"})
        assert status == 404, body
        status, body = await api("GET", "/api/v1/stations/CP-NOWHERE/local-list")
        assert status == 404, body

        ws, charger, task = await plugged_in(server, "CP-LL-6")
        status, body = await api("POST", "/api/v1/stations/CP-LL-6/local-list", {"type": "full"}, driver)
        assert status == 403, body
        status, body = await api("GET", "/api/v1/stations/CP-LL-6/local-list", None, driver)
        assert status == 403, body
        status, body = await api("POST", "/api/v1/stations/CP-LL-6/local-list", {"type": "partial"})
        assert status == 422 and "type" in str(body), body
        assert charger.lists == []

        charger.list_answer = "CALLERROR"
        status, body = await api("POST", "/api/v1/stations/CP-LL-6/local-list", {"type": "full"})
        assert status == 502 and "InternalError" in str(body), body
        # No answer in time (2 s here): 504; the answer that comes late is not taken for acceptance.
        charger.list_answer, charger.list_delay = "Accepted", 3.0
        status, body = await api("POST", "/api/v1/stations/CP-LL-6/local-list", {"type": "full"})
        assert status == 504, body
        await asyncio.sleep(1.5)
        assert len(charger.lists) == 2
        state = await list_state(api, "CP-LL-6")
        assert state.get("confirmedVersion") is None and state["entries"] == 0, state

        # Once the charger has said it takes two entries, a list of three is refused unsent.
        charger.list_delay, charger.max_length = 0.0, 2
        status, body = await api("POST", "/api/v1/stations/CP-LL-6/commands/get-configuration", {})
        assert status == 200, body
        status, body = await api("POST", "/api/v1/stations/CP-LL-6/local-list", {"type": "full"})
        assert status == 409 and "SendLocalListMaxLength" in str(body), body
        assert len(charger.lists) == 2
        assert (await list_state(api, "CP-LL-6"))["version"] == state["version"]
        await unplug(ws, task)

    asyncio.run(scenario())
