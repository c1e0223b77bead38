"""Interop for Smart Charging (OCPP 1.6) and site load management, through the real binary with the
`ocpp` package as the chargers: which profiles the chargers are sent, what they may draw at every
moment, and what the server keeps of their answers."""
import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
import websockets
from ocpp.charge_point import snake_to_camel_case
from ocpp.exceptions import InternalError
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from harness import Server
from test_ocpp16 import ENV, SimulatedCharger, admin
from test_reservations import Api, parse, stamp

# A one-second load management pass, so a station joining a site and a priority change are seen while
# the test waits; a short call timeout for the no-answer case; a short event heartbeat, so the server
# notices a closed event stream before it is stopped.
SMART_ENV = {**ENV, "CSMS_OCPP_CALL_TIMEOUT_SECONDS": "2", "CSMS_EVENT_HEARTBEAT_SECONDS": "1",
             "CSMS_LOAD_MANAGEMENT_SECONDS": "1"}
LOAD_IDS = 900000
SETTLE_SECONDS = 5.0


class ProfileKeepingCharger(SimulatedCharger):
    """A charger with the Smart Charging profile. Keeps every SetChargingProfile,
    ClearChargingProfile and GetCompositeSchedule it is sent (in the wire's camelCase), installs the
    profiles it accepts the way OCPP 1.6 says (same id, or same connector, stack level and purpose,
    replaces), and so knows at any moment the power each connector may draw."""

    def __init__(self, *args, connector_max_w=22000, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connector_max_w = connector_max_w
        self.site = site
        self.profiles = []
        self.clears = []
        self.composite_asks = []
        self.remote_start_profiles = []
        self.set_answer = "Accepted"
        self.set_delay = 0.0
        self.clear_answer = "Accepted"
        self.composite_answer = None
        # chargingProfileId -> (connectorId, profile): what the charger holds.
        self.installed = {}
        # connectorId -> transactionId of the session running there.
        self.running = {}

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(self, connector_id, cs_charging_profiles, **kwargs):
        profile = snake_to_camel_case(cs_charging_profiles)
        self.profiles.append({"connectorId": connector_id, "csChargingProfiles": profile})
        if self.set_answer == "CALLERROR":
            raise InternalError(description="profile store is broken")
        if self.set_delay:
            await asyncio.sleep(self.set_delay)
        if self.set_answer == "Accepted":
            self.installed = {
                key: (connector, held) for key, (connector, held) in self.installed.items()
                if key != profile["chargingProfileId"] and not (
                    connector == connector_id and held["stackLevel"] == profile["stackLevel"]
                    and held["chargingProfilePurpose"] == profile["chargingProfilePurpose"])}
            self.installed[profile["chargingProfileId"]] = (connector_id, profile)
            if self.site is not None:
                self.site.observe(f"{self.id} accepted profile {profile['chargingProfileId']} on {connector_id}")
        return call_result.SetChargingProfile(status=self.set_answer)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **kwargs):
        request = snake_to_camel_case(kwargs)
        self.clears.append(request)

        def matches(key, connector, held):
            if "id" in request:
                return key == request["id"]
            return all(request.get(field) in (None, value) for field, value in (
                ("connectorId", connector), ("chargingProfilePurpose", held["chargingProfilePurpose"]),
                ("stackLevel", held["stackLevel"])))

        if self.clear_answer == "Accepted":
            self.installed = {key: item for key, item in self.installed.items() if not matches(key, *item)}
        return call_result.ClearChargingProfile(status=self.clear_answer)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id, duration, charging_rate_unit=None, **kwargs):
        self.composite_asks.append({"connectorId": connector_id, "duration": duration, "chargingRateUnit": charging_rate_unit})
        return call_result.GetCompositeSchedule(**self.composite_answer)

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, charging_profile=None, **kwargs):
        self.remote_starts.append((id_tag, connector_id))
        self.remote_start_profiles.append(snake_to_camel_case(charging_profile))
        return call_result.RemoteStartTransaction(status="Accepted")

    def limit_w(self, connector_id):
        """What the connector may draw now: nothing without a session; else its transaction's
        TxProfile, else the TxDefaultProfile for it or for the whole charger (connector 0), else its
        maximum. Among several, the highest stack level wins."""
        transaction_id = self.running.get(connector_id)
        if transaction_id is None:
            return 0

        def best(purpose, connectors, transaction=None):
            found = [held for connector, held in self.installed.values()
                     if held["chargingProfilePurpose"] == purpose and connector in connectors
                     and (transaction is None or held.get("transactionId") == transaction)]
            if not found:
                return None
            top = max(found, key=lambda held: held["stackLevel"])
            assert top["chargingSchedule"]["chargingRateUnit"] == "W", top
            return top["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]

        for limit in (best("TxProfile", (connector_id,), transaction_id), best("TxDefaultProfile", (connector_id,)),
                      best("TxDefaultProfile", (0,))):
            if limit is not None:
                return min(limit, self.connector_max_w)
        return self.connector_max_w

    async def start_session(self, connector_id, id_tag, timestamp=None):
        started = await self.call(call.StartTransaction(
            connector_id=connector_id, id_tag=id_tag, meter_start=0,
            timestamp=timestamp or stamp(datetime.now(timezone.utc))))
        assert started.id_tag_info["status"] == "Accepted", started
        self.running[connector_id] = started.transaction_id
        if self.site is not None:
            self.site.observe(f"{self.id} started {started.transaction_id}")
        return started.transaction_id

    async def stop_session(self, connector_id):
        # The car stops drawing before the charger tells; its TxProfiles go with the transaction.
        transaction_id = self.running.pop(connector_id)
        self.installed = {key: item for key, item in self.installed.items()
                          if item[1].get("transactionId") != transaction_id}
        await self.call(call.StopTransaction(meter_stop=1000, timestamp=stamp(datetime.now(timezone.utc)),
                                             transaction_id=transaction_id))
        await self.call(call.StatusNotification(connector_id=connector_id, error_code="NoError", status="Available"))


class Site:
    """A site's chargers, whose limits are summed at every moment one changes."""

    def __init__(self, limit_w):
        self.limit_w = limit_w
        self.chargers = []
        # (what happened, the site's total, each station's limit)
        self.moments = []

    def limits(self):
        return {charger.id: charger.limit_w(1) for charger in self.chargers}

    def observe(self, what):
        limits = self.limits()
        self.moments.append((what, sum(limits.values()), limits))

    def over_limit(self):
        return [moment for moment in self.moments if moment[1] > self.limit_w]


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=SMART_ENV).start()
    yield instance
    instance.stop()


def one_connector_station(server, headers, station_id, site_id=None):
    status, body, _ = server.json("POST", "/api/v1/stations", {
        "id": station_id, "name": station_id, "connectors": [{"connectorId": 1, "type": "Type2", "maxPowerKw": 22}]}, headers)
    assert status == 201, body
    if site_id:
        status, body, _ = server.json("PATCH", f"/api/v1/stations/{station_id}", {"siteId": site_id}, headers)
        assert status == 200 and body["siteId"] == site_id, body


def two_connector_station(server, headers, station_id):
    status, body, _ = server.json("POST", "/api/v1/stations", {
        "id": station_id, "name": station_id, "connectors": [{"connectorId": 1, "type": "Type2", "maxPowerKw": 22},
                                                             {"connectorId": 2, "type": "Type2", "maxPowerKw": 22}]}, headers)
    assert status == 201, body


def make_site(server, headers, max_power_kw):
    status, site, _ = server.json("POST", "/api/v1/sites", {"name": "Depot", "maxPowerKw": max_power_kw}, headers)
    assert status == 201, site
    return site["id"]


def accept_tag(server, headers, tag, **fields):
    status, body, _ = server.json("PUT", f"/api/v1/id-tags/{tag}", {"status": "Accepted", **fields}, headers)
    assert status in (200, 201), body


async def plugged_in(server, station_id, site=None, connectors=(1,)):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"])
    charger = ProfileKeepingCharger(station_id, ws, site=site)
    task = asyncio.create_task(charger.start())
    boot = await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
    assert boot.status == "Accepted"
    for connector in connectors:
        await charger.call(call.StatusNotification(connector_id=connector, error_code="NoError", status="Available"))
    if site is not None:
        site.chargers.append(charger)
    return ws, charger, task


async def unplug(ws, task):
    task.cancel()
    await ws.close()


async def until(condition, timeout=SETTLE_SECONDS):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return condition()


def relative_w(profile_id, purpose, limit, transaction_id=None):
    """Load management's profile shape: stack level 50, Relative, W, one period."""
    profile = {"chargingProfileId": profile_id, "stackLevel": 50, "chargingProfilePurpose": purpose,
               "chargingProfileKind": "Relative",
               "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile


async def settled(api, site_id, site, expected):
    """The site's allocation once it and the chargers both hold `expected` ({station: W}): every
    connector charging, its limit accepted, and each charger holding exactly that limit."""
    latest = {}

    async def check():
        status, allocation = await api("GET", f"/api/v1/sites/{site_id}/allocation")
        assert status == 200, allocation
        latest["allocation"] = allocation
        by_station = {item["stationId"]: item for item in allocation["connectors"]}
        return (set(by_station) == set(expected) and site.limits() == {**{c.id: 0 for c in site.chargers}, **expected}
                and all(item["limitW"] == item.get("acknowledgedLimitW") == expected[item["stationId"]]
                        for item in by_station.values()))

    deadline = time.monotonic() + SETTLE_SECONDS
    while not await check() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert await check(), (expected, site.limits(), latest["allocation"])
    # On the way there, at no moment did the chargers together hold more than the site.
    assert site.over_limit() == [], site.over_limit()
    return latest["allocation"]


def test_a_site_of_three_22_kw_chargers_shares_22_kw_and_never_holds_more(server):
    headers = admin(server)
    site_id = make_site(server, headers, 22)
    stations = ["CP-LM-A", "CP-LM-B", "CP-LM-C"]
    for station_id in stations:
        one_connector_station(server, headers, station_id, site_id)
        accept_tag(server, headers, "TAG-" + station_id)
    api = Api(server, headers)
    site = Site(22000)

    async def scenario():
        plugs = [await plugged_in(server, station_id, site) for station_id in stations]
        a, b, c = (charger for _, charger, _ in plugs)

        # Before any car comes, each charger holds the 0 W default: a new session draws nothing.
        assert await until(lambda: all(charger.profiles for charger in (a, b, c))), [x.profiles for x in (a, b, c)]
        for charger in (a, b, c):
            assert charger.profiles == [{"connectorId": 0, "csChargingProfiles": relative_w(LOAD_IDS, "TxDefaultProfile", 0)}]
        status, listed = await api("GET", "/api/v1/stations/CP-LM-A/charging-profiles")
        [default] = listed["items"]
        assert (default["status"], default["source"], default["connectorId"], default["chargingProfileId"]) == (
            "active", "load-management", 0, LOAD_IDS), default

        async def plug_in_and_start(charger):
            await charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
            transaction_id = await charger.start_session(1, "TAG-" + charger.id)
            await charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
            return transaction_id

        transactions = {}
        transactions[a.id] = await plug_in_and_start(a)
        allocation = await settled(api, site_id, site, {a.id: 22000})
        assert allocation["allocatedW"] == 22000 and allocation["maxPowerKw"] == 22
        [entry] = allocation["connectors"]
        assert (entry["connectorId"], entry["transactionId"], entry["state"]) == (1, transactions[a.id], "charging"), entry
        assert a.profiles[-1] == {"connectorId": 1,
                                  "csChargingProfiles": relative_w(LOAD_IDS + 1, "TxProfile", 22000, transactions[a.id])}

        transactions[b.id] = await plug_in_and_start(b)
        allocation = await settled(api, site_id, site, {a.id: 11000, b.id: 11000})
        assert allocation["allocatedW"] == 22000
        # A's share came down before B's went up (else the site would have held 33 kW meanwhile).
        assert [frame["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
                for frame in a.profiles[1:]] == [22000, 11000]
        assert b.profiles[-1]["csChargingProfiles"] == relative_w(LOAD_IDS + 1, "TxProfile", 11000, transactions[b.id])

        transactions[c.id] = await plug_in_and_start(c)
        assert await until(lambda: all(limit in (7333, 7334) for limit in site.limits().values())), site.limits()
        three = site.limits()
        allocation = await settled(api, site_id, site, three)
        assert all(limit in (7333, 7334) for limit in three.values()) and sum(three.values()) <= 22000, three
        assert allocation["allocatedW"] == sum(three.values())
        assert {item["stationId"]: item["transactionId"] for item in allocation["connectors"]} == transactions
        # Only changed limits are sent: another periodic pass sends nothing.
        sent = [len(charger.profiles) for charger in (a, b, c)]
        await asyncio.sleep(1.5)
        assert [len(charger.profiles) for charger in (a, b, c)] == sent

        await a.stop_session(1)
        allocation = await settled(api, site_id, site, {b.id: 11000, c.id: 11000})
        assert len(a.profiles) == sent[0]
        status, listed = await api("GET", "/api/v1/stations/CP-LM-A/charging-profiles")
        tx_profiles = [item for item in listed["items"] if item["purpose"] == "TxProfile"]
        assert [item["status"] for item in tx_profiles] == ["ended", "replaced", "replaced"], tx_profiles
        assert all(item["transactionId"] == transactions[a.id] and item["endedAt"] for item in tx_profiles)

        await b.stop_session(1)
        await settled(api, site_id, site, {c.id: 22000})
        await c.stop_session(1)
        allocation = await settled(api, site_id, site, {})
        assert (allocation["connectors"], allocation["allocatedW"]) == ([], 0)
        for ws, _, task in plugs:
            await unplug(ws, task)

    asyncio.run(scenario())
    assert len(site.moments) > 10
    assert site.over_limit() == [], site.over_limit()


def absolute_a(profile_id=None, stack_level=1, limits=(32, 16), purpose="TxDefaultProfile"):
    profile = {"stackLevel": stack_level, "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
               "chargingSchedule": {"startSchedule": "2026-03-10T08:00:00Z", "chargingRateUnit": "A",
                                    "chargingSchedulePeriod": [{"startPeriod": 3600 * index, "limit": limit}
                                                               for index, limit in enumerate(limits)]}}
    if profile_id is not None:
        profile["chargingProfileId"] = profile_id
    return profile


def sent_profile(frame):
    """A received profile with its start time parsed, so any precision compares."""
    profile = frame["csChargingProfiles"]
    schedule = profile["chargingSchedule"]
    if "startSchedule" in schedule:
        schedule = {**schedule, "startSchedule": parse(schedule["startSchedule"])}
    return frame["connectorId"], {**profile, "chargingSchedule": schedule}


def test_a_default_profile_is_set_replaced_by_the_same_stack_level_and_purpose_and_cleared(server):
    headers = admin(server)
    two_connector_station(server, headers, "CP-SC-1")
    api = Api(server, headers)

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-SC-1", connectors=(1, 2))
        status, first = await api("POST", "/api/v1/stations/CP-SC-1/charging-profiles",
                                  {"connectorId": 0, "chargingProfile": absolute_a()})
        assert status == 201, first
        assert (first["stationId"], first["connectorId"], first["chargingProfileId"], first["purpose"], first["stackLevel"]) == (
            "CP-SC-1", 0, 1, "TxDefaultProfile", 1), first
        assert (first["status"], first["chargerAnswer"], first["source"]) == ("active", "Accepted", "operator"), first
        assert first.get("transactionId") is None and first.get("endedAt") is None
        assert first["id"] and first["createdAt"] and first["updatedAt"] and "version" in first
        expected = absolute_a(1)
        expected["chargingSchedule"]["startSchedule"] = parse(expected["chargingSchedule"]["startSchedule"])
        assert [sent_profile(frame) for frame in charger.profiles] == [(0, expected)]
        assert sent_profile({"connectorId": 0, "csChargingProfiles": first["profile"]}) == (0, expected)

        # Same stack level and purpose on the same connector: the charger replaces it, and so do we.
        status, second = await api("POST", "/api/v1/stations/CP-SC-1/charging-profiles",
                                   {"connectorId": 0, "chargingProfile": absolute_a(limits=(20,))})
        assert status == 201 and (second["chargingProfileId"], second["status"]) == (2, "active"), second
        # Another stack level stays beside it.
        status, third = await api("POST", "/api/v1/stations/CP-SC-1/charging-profiles",
                                  {"connectorId": 0, "chargingProfile": absolute_a(stack_level=2, limits=(10,))})
        assert status == 201 and (third["chargingProfileId"], third["status"]) == (3, "active"), third
        assert [frame["csChargingProfiles"]["chargingProfileId"] for frame in charger.profiles] == [1, 2, 3]
        status, listed = await api("GET", "/api/v1/stations/CP-SC-1/charging-profiles")
        assert status == 200, listed
        assert [(item["chargingProfileId"], item["status"]) for item in listed["items"]] == [
            (3, "active"), (2, "active"), (1, "replaced")], listed
        replaced = listed["items"][2]
        assert replaced["endedAt"] and replaced["version"] > first["version"]
        status, listed = await api("GET", "/api/v1/stations/CP-SC-1/charging-profiles?status=active")
        assert [item["chargingProfileId"] for item in listed["items"]] == [3, 2]
        status, body = await api("GET", "/api/v1/stations/CP-SC-1/charging-profiles?status=installed")
        assert status == 422 and "status" in str(body), body

        status, cleared = await api("DELETE", "/api/v1/stations/CP-SC-1/charging-profiles?id=2")
        assert status == 200, cleared
        assert charger.clears == [{"id": 2}]
        assert cleared["status"] == "Accepted"
        assert [(item["chargingProfileId"], item["status"]) for item in cleared["cleared"]] == [(2, "cleared")], cleared
        assert cleared["cleared"][0]["endedAt"]
        assert list(charger.installed) == [3]
        status, listed = await api("GET", "/api/v1/stations/CP-SC-1/charging-profiles")
        assert [(item["chargingProfileId"], item["status"]) for item in listed["items"]] == [
            (3, "active"), (2, "cleared"), (1, "replaced")], listed

        # By connector, purpose and stack level; the charger's Unknown clears nothing of ours.
        charger.clear_answer = "Unknown"
        by_level = "/api/v1/stations/CP-SC-1/charging-profiles?connectorId=0&purpose=TxDefaultProfile&stackLevel=2"
        status, cleared = await api("DELETE", by_level)
        assert status == 200 and cleared == {"status": "Unknown", "cleared": []}, cleared
        assert charger.clears[-1] == {"connectorId": 0, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2}
        charger.clear_answer = "Accepted"
        status, cleared = await api("DELETE", by_level)
        assert status == 200, cleared
        assert [(item["chargingProfileId"], item["status"]) for item in cleared["cleared"]] == [(3, "cleared")], cleared
        status, listed = await api("GET", "/api/v1/stations/CP-SC-1/charging-profiles?status=active")
        assert listed["items"] == [] and charger.installed == {}, listed
        status, body = await api("DELETE", "/api/v1/stations/CP-SC-1/charging-profiles?purpose=Everything")
        assert status == 422 and "purpose" in str(body), body
        assert len(charger.clears) == 3
        await unplug(ws, task)

    asyncio.run(scenario())


def fields_of(body):
    return sorted(error["field"] for error in body["errors"])


def test_profiles_breaking_the_rules_are_refused_unsent_and_the_chargers_refusals_are_kept(server):
    headers = admin(server)
    two_connector_station(server, headers, "CP-SC-2")
    api = Api(server, headers)
    periods = "chargingProfile.chargingSchedule.chargingSchedulePeriod"

    def relative(purpose="TxProfile", periods=((0, 16),), unit="A", **extra):
        return {"stackLevel": 1, "chargingProfilePurpose": purpose, "chargingProfileKind": "Relative",
                "chargingSchedule": {"chargingRateUnit": unit,
                                     "chargingSchedulePeriod": [{"startPeriod": start, "limit": limit} for start, limit in periods]},
                **extra}

    async def scenario():
        status, body = await api("POST", "/api/v1/stations/CP-SC-2/charging-profiles",
                                 {"connectorId": 1, "chargingProfile": relative("TxDefaultProfile")})
        assert status == 409, body  # not connected
        ws, charger, task = await plugged_in(server, "CP-SC-2", connectors=(1, 2))
        recurring = absolute_a()
        recurring["chargingProfileKind"] = "Recurring"
        relative_with_start = relative("TxDefaultProfile")
        relative_with_start["chargingSchedule"]["startSchedule"] = "2026-03-10T08:00:00Z"
        absolute_without_start = absolute_a()
        del absolute_without_start["chargingSchedule"]["startSchedule"]
        for connector, profile, fields in [
            # A TxProfile needs a transaction running on its connector.
            (1, relative(), ["connectorId"]),
            (0, relative(), ["connectorId"]),
            (1, relative("ChargePointMaxProfile"), ["connectorId"]),
            (1, relative("TxDefaultProfile", periods=((0, 16), (0, 8))), [periods + "[1].startPeriod"]),
            (1, relative("TxDefaultProfile", periods=((0, 16), (600, 8), (300, 4))), [periods + "[2].startPeriod"]),
            (1, relative("TxDefaultProfile", periods=((60, 16),)), [periods]),
            (1, relative("TxDefaultProfile", periods=((0, 2001),)), [periods + "[0].limit"]),
            (1, relative("TxDefaultProfile", periods=((0, 10000001),), unit="W"), [periods + "[0].limit"]),
            (1, recurring, ["chargingProfile.recurrencyKind"]),
            (1, relative_with_start, ["chargingProfile.chargingSchedule.startSchedule"]),
            (1, absolute_without_start, ["chargingProfile.chargingSchedule.startSchedule"]),
            (1, relative("TxDefaultProfile", transactionId=5), ["chargingProfile.transactionId"]),
            (9, relative("TxDefaultProfile"), ["connectorId"]),
        ]:
            status, body = await api("POST", "/api/v1/stations/CP-SC-2/charging-profiles",
                                     {"connectorId": connector, "chargingProfile": profile})
            assert status == 422 and fields_of(body) == fields, (connector, profile, body)
        # The schema too: an unknown purpose is named by its path.
        status, body = await api("POST", "/api/v1/stations/CP-SC-2/charging-profiles",
                                 {"connectorId": 1, "chargingProfile": relative("Everything")})
        assert status == 422 and "chargingProfile.chargingProfilePurpose" in str(body), body
        assert charger.profiles == []
        status, listed = await api("GET", "/api/v1/stations/CP-SC-2/charging-profiles")
        assert listed["items"] == [], listed

        for answer in ("Rejected", "NotSupported"):
            charger.set_answer = answer
            status, refused = await api("POST", "/api/v1/stations/CP-SC-2/charging-profiles",
                                        {"connectorId": 1, "chargingProfile": relative("TxDefaultProfile")})
            assert status == 201, refused
            assert (refused["status"], refused["chargerAnswer"]) == ("rejected", answer) and refused["endedAt"], refused
        charger.set_answer = "CALLERROR"
        status, body = await api("POST", "/api/v1/stations/CP-SC-2/charging-profiles",
                                 {"connectorId": 1, "chargingProfile": relative("TxDefaultProfile")})
        assert status == 502 and "InternalError" in str(body), body
        # No answer in time (2 s here): 504; the answer that comes late does not make it active.
        charger.set_answer, charger.set_delay = "Accepted", 3.0
        status, body = await api("POST", "/api/v1/stations/CP-SC-2/charging-profiles",
                                 {"connectorId": 1, "chargingProfile": relative("TxDefaultProfile")})
        assert status == 504, body
        await asyncio.sleep(2.0)
        assert [frame["csChargingProfiles"]["chargingProfileId"] for frame in charger.profiles] == [1, 2, 3, 4]
        status, listed = await api("GET", "/api/v1/stations/CP-SC-2/charging-profiles")
        assert [(item["chargingProfileId"], item["status"]) for item in listed["items"]] == [
            (4, "failed"), (3, "failed"), (2, "rejected"), (1, "rejected")], listed
        await unplug(ws, task)

    asyncio.run(scenario())


def test_composite_schedule_remote_start_with_a_profile_and_a_tx_profile_that_ends_with_its_transaction(server):
    headers = admin(server)
    two_connector_station(server, headers, "CP-SC-3")
    accept_tag(server, headers, "RFID1")
    api = Api(server, headers)
    tx_profile = {"chargingProfileId": 7, "stackLevel": 2, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
                  "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}
    answer = {"status": "Accepted", "connectorId": 1, "scheduleStart": "2026-03-10T09:00:00Z",
              "chargingSchedule": {"duration": 3600, "chargingRateUnit": "W", "chargingSchedulePeriod": [
                  {"startPeriod": 0, "limit": 11000}, {"startPeriod": 1800, "limit": 7400, "numberPhases": 3}]}}

    async def scenario():
        ws, charger, task = await plugged_in(server, "CP-SC-3", connectors=(1, 2))
        charger.composite_answer = {"status": "Accepted", "connector_id": 1, "schedule_start": answer["scheduleStart"],
                                    "charging_schedule": answer["chargingSchedule"]}
        status, body = await api("GET", "/api/v1/stations/CP-SC-3/composite-schedule?connectorId=1&duration=3600&unit=W")
        assert status == 200, body
        assert charger.composite_asks == [{"connectorId": 1, "duration": 3600, "chargingRateUnit": "W"}]
        assert parse(body.pop("scheduleStart")) == parse(answer["scheduleStart"])
        assert body == {key: value for key, value in answer.items() if key != "scheduleStart"}, body
        for query, field in (("connectorId=1&duration=0", "duration"), ("duration=60", "connectorId"),
                             ("connectorId=1&duration=60&unit=kW", "unit")):
            status, body = await api("GET", f"/api/v1/stations/CP-SC-3/composite-schedule?{query}")
            assert status == 422 and field in str(body), (query, body)
        assert len(charger.composite_asks) == 1

        for profile, field in (
                ({**tx_profile, "chargingProfilePurpose": "TxDefaultProfile"}, "chargingProfile.chargingProfilePurpose"),
                ({**tx_profile, "transactionId": 3}, "chargingProfile.transactionId")):
            status, body = await api("POST", "/api/v1/stations/CP-SC-3/commands/remote-start",
                                     {"connectorId": 1, "idTag": "RFID1", "chargingProfile": profile})
            assert status == 422 and field in str(body), body
        assert charger.remote_starts == []
        status, body = await api("POST", "/api/v1/stations/CP-SC-3/commands/remote-start",
                                 {"connectorId": 1, "idTag": "RFID1", "chargingProfile": tx_profile})
        assert status == 200 and body == {"status": "Accepted"}, body
        assert charger.remote_starts == [("RFID1", 1)] and charger.remote_start_profiles == [tx_profile]

        transaction_id = await charger.start_session(1, "RFID1")
        # A TxProfile set through the API gets the connector's transaction.
        status, stored = await api("POST", "/api/v1/stations/CP-SC-3/charging-profiles", {
            "connectorId": 1, "chargingProfile": {key: value for key, value in tx_profile.items() if key != "chargingProfileId"}})
        assert status == 201 and (stored["status"], stored["transactionId"]) == ("active", transaction_id), stored
        assert charger.profiles[-1]["csChargingProfiles"]["transactionId"] == transaction_id
        # The passthrough has the same effect, kept as the passthrough's.
        through = {**tx_profile, "chargingProfileId": 40, "stackLevel": 3, "transactionId": transaction_id}
        status, body = await api("POST", "/api/v1/stations/CP-SC-3/ocpp/SetChargingProfile",
                                 {"connectorId": 1, "csChargingProfiles": through})
        assert status == 200 and body == {"response": {"status": "Accepted"}}, body
        assert charger.profiles[-1] == {"connectorId": 1, "csChargingProfiles": through}
        status, listed = await api("GET", "/api/v1/stations/CP-SC-3/charging-profiles")
        kept = [(item["chargingProfileId"], item["status"], item["source"], item.get("transactionId")) for item in listed["items"]]
        assert kept == [(40, "active", "passthrough", transaction_id),
                        (stored["chargingProfileId"], "active", "operator", transaction_id)], listed

        await charger.stop_session(1)
        status, listed = await api("GET", "/api/v1/stations/CP-SC-3/charging-profiles")
        assert [(item["chargingProfileId"], item["status"]) for item in listed["items"]] == [
            (40, "ended"), (stored["chargingProfileId"], "ended")], listed
        assert all(item["endedAt"] for item in listed["items"])
        await unplug(ws, task)

    asyncio.run(scenario())


def test_a_drivers_priority_takes_the_share_of_a_newer_session_and_pauses_another(server):
    headers = admin(server)
    site_id = make_site(server, headers, 10)
    stations = ["CP-PR-A", "CP-PR-B", "CP-PR-C"]
    drivers = {}
    for station_id in stations:
        one_connector_station(server, headers, station_id, site_id)
        status, driver, _ = server.json("POST", "/api/v1/drivers",
                                        {"name": station_id, "email": f"{station_id.lower()}@example.com"}, headers)
        assert status == 201, driver
        drivers[station_id] = driver["id"]
        accept_tag(server, headers, "TAG-" + station_id, driverId=driver["id"])
    api = Api(server, headers)
    site = Site(10000)
    begun = datetime.now(timezone.utc) - timedelta(minutes=5)

    async def scenario():
        plugs = [await plugged_in(server, station_id, site) for station_id in stations]
        a, b, c = (charger for _, charger, _ in plugs)
        assert await until(lambda: all(charger.profiles for charger in (a, b, c)))
        # Started a minute apart, in the order A, B, C: C is the newest.
        for minute, charger in enumerate((a, b, c)):
            await charger.start_session(1, "TAG-" + charger.id, stamp(begun + timedelta(minutes=minute)))
        # Two get the 4140 W minimum and share the rest; a third minimum does not fit into 10 kW.
        allocation = await settled(api, site_id, site, {a.id: 5000, b.id: 5000, c.id: 0})
        states = {item["stationId"]: item["state"] for item in allocation["connectors"]}
        assert states == {a.id: "charging", b.id: "charging", c.id: "paused"}, allocation
        assert c.profiles[-1]["csChargingProfiles"] == relative_w(LOAD_IDS + 1, "TxProfile", 0, c.running[1])

        status, body = await api("PATCH", f"/api/v1/drivers/{drivers[c.id]}", {"priority": 5})
        assert status == 200 and body["priority"] == 5, body
        # No session event: the periodic pass sees the priority. C first, then the oldest of the rest.
        allocation = await settled(api, site_id, site, {a.id: 4140, b.id: 0, c.id: 5860})
        states = {item["stationId"]: item["state"] for item in allocation["connectors"]}
        assert states == {a.id: "charging", b.id: "paused", c.id: "charging"}, allocation
        assert allocation["allocatedW"] == 10000
        for ws, _, task in plugs:
            await unplug(ws, task)

    asyncio.run(scenario())
    assert site.over_limit() == [], site.over_limit()
