"""OpenTelemetry traces from the real binary, received by a small OTLP/HTTP collector of our own."""
import asyncio
import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)

from harness import Server, run_cli

ADMIN = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4",
         "CSMS_OCPP_CALL_TIMEOUT_SECONDS": "5"}
SERVER, CLIENT, PRODUCER = 2, 3, 4
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class Collector:
    """Accepts `POST /v1/traces` (OTLP/HTTP, protobuf) and keeps every span it is sent."""

    def __init__(self):
        self.spans = []
        self.requests = 0
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(404)
                    self.end_headers()
                    return
                collector.receive(ExportTraceServiceRequest.FromString(body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, request):
        spans = []
        for resource_spans in request.resource_spans:
            resource = {kv.key: value_of(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append({
                        "name": span.name, "trace": span.trace_id.hex(), "id": span.span_id.hex(),
                        "parent": span.parent_span_id.hex(), "kind": span.kind, "status": span.status.code,
                        "attributes": {kv.key: value_of(kv.value) for kv in span.attributes},
                        "service": resource.get("service.name"),
                    })
        with self.lock:
            self.requests += 1
            self.spans.extend(spans)

    def wait_for(self, predicate, timeout=15.0):
        """The first span matching `predicate`, waiting for the exporter's next batches."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [span for span in self.spans if predicate(span)]
            if found:
                return found[0]
            time.sleep(0.05)
        with self.lock:
            names = sorted({span["name"] for span in self.spans})
        raise AssertionError(f"no matching span within {timeout}s; spans received: {names}")

    def all(self, predicate=lambda span: True):
        with self.lock:
            return [span for span in self.spans if predicate(span)]

    def close(self):
        self.server.shutdown()


def value_of(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@pytest.fixture
def collector():
    instance = Collector()
    yield instance
    instance.close()


@pytest.fixture
def server(data_dir, collector):
    env = {**ADMIN, "CSMS_OTLP_ENDPOINT": collector.endpoint, "CSMS_OTEL_SERVICE_NAME": "csms-e2e",
           "OTEL_BSP_SCHEDULE_DELAY": "100"}
    instance = Server(data_dir, env=env).start()
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


def test_http_span_continues_the_callers_trace_and_names_the_route(server, collector):
    headers = admin(server)
    traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
    status, _, response_headers = server.json(
        "GET", "/api/v1/stations/NOPE-1?access_token=hunter2", headers={**headers, "traceparent": traceparent})
    assert status == 404
    # W3C Trace Context Level 2: our span's own position in the caller's trace.
    version, trace_id, span_id, flags = response_headers["traceresponse"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")

    span = collector.wait_for(lambda s: s["trace"] == TRACE_ID and s["kind"] == SERVER)
    assert span["name"] == "GET /api/v1/stations/{id}"
    assert span["id"] == span_id and span["parent"] == PARENT_ID
    assert span["service"] == "csms-e2e"
    attributes = span["attributes"]
    assert attributes["http.route"] == "/api/v1/stations/{id}"
    assert attributes["http.response.status_code"] == 404
    assert attributes["http.request.method"] == "GET"
    assert attributes["enduser.role"] == "admin"
    assert not any("hunter2" in str(value) or "NOPE-1" in str(value) or "Bearer" in str(value)
                   for value in attributes.values())

    # The station lookup is a database span, a child of the request's span.
    read = collector.wait_for(lambda s: s["trace"] == TRACE_ID and s["name"].startswith("db.read"))
    assert read["parent"] == span_id and read["kind"] == CLIENT
    assert read["attributes"]["db.operation"] == "read" and read["attributes"]["db.system"] == "sqlite"
    assert read["attributes"]["db.batch_size"] == 1 and "db.caller" in read["attributes"]

    # Every log line of the request carries the trace, so logs and traces join.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
        access = [line for line in lines if line.get("message") == "request" and line.get("traceId") == TRACE_ID]
        if access:
            break
        time.sleep(0.05)
    assert access and access[0]["spanId"] == span_id and access[0]["route"] == "/api/v1/stations/{id}"

    # Without a traceparent the request starts a trace of its own and still says which.
    status, _, response_headers = server.json("GET", "/api/v1/stations", headers=headers)
    assert status == 200
    own_trace = response_headers["traceresponse"].split("-")[1]
    own = collector.wait_for(lambda s: s["trace"] == own_trace and s["kind"] == SERVER)
    assert own["name"] == "GET /api/v1/stations" and own["parent"] == ""


def test_an_audit_entry_names_the_trace_of_the_change(server, collector):
    headers = admin(server)
    status, created, response_headers = server.json("POST", "/api/v1/stations", {
        "id": "AUDITED", "name": "Audited", "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 50}]}, headers)
    assert status == 201, created
    trace_id = response_headers["traceresponse"].split("-")[1]
    status, entries, _ = server.json("GET", "/api/v1/audit?targetType=station&targetId=AUDITED", headers=headers)
    assert status == 200
    assert [entry["traceId"] for entry in entries["items"] if entry["action"] == "station.create"] == [trace_id]
    # The trace holds the write that recorded it.
    write = collector.wait_for(lambda s: s["trace"] == trace_id and s["name"].startswith("db.write"))
    assert write["kind"] == CLIENT


class Charger(ChargePoint):
    """Starts the transaction a remote start asks for, after answering it, as a real charger does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = asyncio.get_event_loop().create_future()

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, **kwargs):
        return call_result.RemoteStartTransaction(status="Accepted")

    @after(Action.remote_start_transaction)
    async def start_transaction(self, id_tag, connector_id=None, **kwargs):
        result = await self.call(call.StartTransaction(connector_id=connector_id, id_tag=id_tag, meter_start=0,
                                                       timestamp="2026-03-10T09:00:00Z"))
        self.started.set_result(result.transaction_id)


async def connect(server, station_id):
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/{station_id}", subprotocols=["ocpp1.6"])
    charger = Charger(station_id, ws)
    task = asyncio.create_task(charger.start())
    return ws, charger, task


def test_ocpp_messages_are_spans_with_their_database_work(server, collector):
    make_station(server, admin(server), "CP-TRACE-1")

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{server.port}/ocpp/CP-TRACE-1", subprotocols=["ocpp1.6"]) as ws:
            await ws.send(json.dumps([2, "boot-1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"}]))
            assert json.loads(await ws.recv())[0] == 3
            await ws.send(json.dumps([2, "odd-1", "NoSuchAction", {}]))
            answer = json.loads(await ws.recv())
            assert answer[0] == 4
            return answer[2]

    error_code = asyncio.run(scenario())
    boot = collector.wait_for(lambda s: s["name"] == "OCPP BootNotification")
    assert boot["kind"] == SERVER and boot["parent"] == ""
    assert boot["attributes"] == {"ocpp.station_id": "CP-TRACE-1", "ocpp.action": "BootNotification",
                                  "ocpp.message_id": "boot-1", "ocpp.direction": "in", "ocpp.result": "CALLRESULT"}
    # The boot's station update is a write span inside the message's span.
    write = collector.wait_for(lambda s: s["trace"] == boot["trace"] and s["name"].startswith("db.write"))
    assert write["parent"] == boot["id"]
    assert write["attributes"]["db.operation"] == "write" and write["attributes"]["db.batch_size"] >= 1
    assert "db.queue_wait_ms" in write["attributes"]

    odd = collector.wait_for(lambda s: s["name"] == "OCPP NoSuchAction")
    assert odd["attributes"]["ocpp.result"] == "CALLERROR"
    assert odd["attributes"]["ocpp.error_code"] == error_code
    assert odd["attributes"]["ocpp.message_id"] == "odd-1"
    assert odd["status"] == 2  # STATUS_CODE_ERROR


def test_driver_remote_start_is_one_trace_from_request_to_event(server, collector):
    headers = admin(server)
    make_station(server, headers, "CP-TRACE-2")
    server.json("POST", "/api/v1/auth/register", {"email": "driver@example.com", "password": "driver-pass", "name": "D"})
    status, login, _ = server.json("POST", "/api/v1/auth/login", {"email": "driver@example.com", "password": "driver-pass"})
    driver = {"Authorization": "Bearer " + login["accessToken"]}

    async def scenario():
        ws, charger, task = await connect(server, "CP-TRACE-2")
        await charger.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        status, body, response_headers = await asyncio.to_thread(
            server.json, "POST", "/api/v1/me/charging/start", {"stationId": "CP-TRACE-2", "connectorId": 1}, driver)
        assert status == 200 and body["status"] == "Accepted", body
        transaction_id = await asyncio.wait_for(charger.started, 10)
        task.cancel()
        await ws.close()
        return response_headers["traceresponse"].split("-")[1], transaction_id

    trace_id, transaction_id = asyncio.run(scenario())
    assert transaction_id > 0

    def in_trace(name):
        return collector.wait_for(lambda s: s["trace"] == trace_id and s["name"].startswith(name))

    request = in_trace("POST /api/v1/me/charging/start")
    assert request["attributes"]["enduser.role"] == "driver"
    remote_start = in_trace("OCPP RemoteStartTransaction")
    assert remote_start["parent"] == request["id"] and remote_start["kind"] == CLIENT
    assert remote_start["attributes"]["ocpp.direction"] == "out"
    assert remote_start["attributes"]["ocpp.result"] == "CALLRESULT"
    assert remote_start["attributes"]["ocpp.station_id"] == "CP-TRACE-2"
    assert remote_start["attributes"]["ocpp.queue_wait_ms"] >= 0
    start = in_trace("OCPP StartTransaction")
    assert start["parent"] == remote_start["id"] and start["kind"] == SERVER
    assert start["attributes"]["ocpp.remote_start"] is True
    session_write = collector.wait_for(
        lambda s: s["trace"] == trace_id and s["parent"] == start["id"] and s["name"].startswith("db.write"))
    assert session_write["attributes"]["db.operation"] == "write"
    event = in_trace("event.publish session.started")
    assert event["parent"] == start["id"] and event["kind"] == PRODUCER
    assert event["attributes"]["event.type"] == "session.started"
    # Nothing the driver or charger sent is an attribute: the app token is a credential.
    status, tags, _ = server.json("GET", "/api/v1/id-tags?kind=app", headers=headers)
    tokens = {tag["id"] for tag in tags["items"]} if status == 200 else set()
    for span in collector.all(lambda s: s["trace"] == trace_id):
        assert not any(str(value) in tokens for value in span["attributes"].values())


def test_tracing_is_off_by_default_and_sends_nothing(data_dir, collector):
    # The standard variable alone does not turn tracing on: only our otlpEndpoint does.
    env = {**ADMIN, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    server = Server(data_dir, env=env).start()
    try:
        status, _, response_headers = server.json(
            "GET", "/api/v1/stations", headers={**admin(server), "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
        assert status == 200 and "traceresponse" not in response_headers
        lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
        assert lines and not any("traceId" in line for line in lines)
        time.sleep(1.0)
    finally:
        assert server.stop() == 0
    assert collector.requests == 0 and collector.spans == []


def test_spans_still_buffered_at_shutdown_are_sent(data_dir, collector):
    # A long batch delay: only the shutdown flush can deliver these spans.
    env = {**ADMIN, "CSMS_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "60000"}
    server = Server(data_dir, env=env).start()
    status, _, response_headers = server.json("GET", "/health")
    assert status == 200
    trace_id = response_headers["traceresponse"].split("-")[1]
    assert server.stop() == 0
    assert collector.wait_for(lambda s: s["trace"] == trace_id, timeout=2)["name"] == "GET /health"


@pytest.mark.parametrize("endpoint", ["localhost:4318", "ftp://collector:4318", "http://collector:4318/?token=x"])
def test_an_invalid_otlp_endpoint_stops_startup_with_a_clear_error(data_dir, endpoint):
    result = run_cli("--data", str(data_dir), "--port", "0", "--otlp-endpoint", endpoint)
    assert result.returncode == 78
    assert "otlpEndpoint" in result.stderr and "must be an http or https URL" in result.stderr
