"""Interop for firmware updates, diagnostics and log uploads through the real binary with the `ocpp`
package as the charger: what the charger is asked, how its status notifications move the job, and
the single-use upload URL it sends its file to."""
import asyncio
import http.client
import json
import os
import stat
import urllib.parse

import pytest
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from harness import Server
from test_ocpp16 import ENV, SimulatedCharger, admin, in_thread, make_station
from test_reservations import Api, in_minutes, parse
from test_security import plugged_in, unplug

JOB_ENV = {**ENV, "CSMS_UPLOAD_MAX_MEGABYTES": "2"}
MEGABYTE = 1024 * 1024


class JobCharger(SimulatedCharger):
    """A charger that takes firmware updates and uploads diagnostics and logs: keeps what it is
    asked and answers with the file name it will upload."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.updates = []
        self.diagnostics = []
        self.logs = []
        self.log_answer = "Accepted"

    @on(Action.update_firmware)
    def on_update_firmware(self, location, retrieve_date, retries=None, retry_interval=None, **kwargs):
        self.updates.append({"location": location, "retrieveDate": retrieve_date, "retries": retries, "retryInterval": retry_interval})
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location, **kwargs):
        self.diagnostics.append({"location": location, **kwargs})
        return call_result.GetDiagnostics(file_name=f"diagnostics-{self.id}.zip")

    @on(Action.get_log)
    def on_get_log(self, log, log_type, request_id, **kwargs):
        self.logs.append({"location": log.get("remote_location", log.get("remoteLocation")), "logType": log_type,
                          "requestId": request_id})
        return call_result.GetLog(status=self.log_answer, filename=f"{log_type}.log")


async def job_charger(server, station_id):
    return await plugged_in(f"ws://127.0.0.1:{server.port}", station_id, JobCharger)


def upload(location, body, method="PUT", chunked=False):
    """A charger's HTTP upload to `location`: the status, or None when the server closed the
    connection without answering."""
    url = urllib.parse.urlsplit(location)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        connection.putrequest(method, url.path)
        connection.putheader("Content-Type", "application/octet-stream")
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
        else:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        try:
            if chunked:
                for start in range(0, len(body), 64 * 1024):
                    piece = body[start:start + 64 * 1024]
                    connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                connection.send(b"0\r\n\r\n")
            else:
                connection.send(body)
        except OSError:
            pass  # refused before the whole body was read: the answer is still there to read
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


async def job(api, station_id, job_id):
    status, body = await api("GET", f"/api/v1/stations/{station_id}/jobs/{job_id}")
    assert status == 200, body
    return body


def statuses(job_body):
    return [step["status"] for step in job_body["history"]]


async def alerts(api, station_id, kind):
    status, body = await api("GET", f"/api/v1/alerts?stationId={station_id}")
    assert status == 200, body
    return [alert for alert in body["items"] if alert["kind"] == kind]


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=JOB_ENV)
    # Not the default http://127.0.0.1:PORT, to see the upload URL is built from --public-url.
    instance.extra_args += ["--public-url", f"http://localhost:{instance.port}"]
    yield instance.start()
    instance.stop()


def test_a_firmware_update_moves_its_job_to_installed_and_a_failed_one_raises_an_alert(server):
    headers = admin(server)
    make_station(server, headers, "CP-FW")
    api = Api(server, headers)
    retrieve_at = in_minutes(5)

    async def scenario():
        ws, charger, task = await job_charger(server, "CP-FW")
        status, created = await api("POST", "/api/v1/stations/CP-FW/firmware",
                                    {"location": "https://firmware.example.com/cp/2.0.bin", "retrieveAt": retrieve_at})
        assert status == 201, created
        assert (created["kind"], created["status"], created["failed"], created["location"]) == (
            "firmware", "Sent", False, "https://firmware.example.com/cp/2.0.bin")
        assert statuses(created) == ["Requested", "Sent"] and created.get("finishedAt") is None
        [update] = charger.updates
        assert update["location"] == "https://firmware.example.com/cp/2.0.bin"
        assert parse(update["retrieveDate"]) == parse(retrieve_at)
        for step in ("Downloading", "Downloaded", "Installing"):
            await charger.call(call.FirmwareStatusNotification(status=step))
            moved = await job(api, "CP-FW", created["id"])
            assert moved["status"] == step and moved.get("finishedAt") is None, moved
        await charger.call(call.FirmwareStatusNotification(status="Installed"))
        done = await job(api, "CP-FW", created["id"])
        assert statuses(done) == ["Requested", "Sent", "Downloading", "Downloaded", "Installing", "Installed"]
        assert done["status"] == "Installed" and done["failed"] is False and done["finishedAt"], done
        status, station = await api("GET", "/api/v1/stations/CP-FW")
        assert station["firmwareStatus"] == "Installed"
        assert await alerts(api, "CP-FW", "firmware_failed") == []

        status, failing = await api("POST", "/api/v1/stations/CP-FW/firmware",
                                    {"location": "ftp://files.example.com/fw/2.1.bin", "retrieveAt": retrieve_at,
                                     "retries": 3, "retryIntervalSeconds": 60})
        assert status == 201, failing
        assert (charger.updates[-1]["retries"], charger.updates[-1]["retryInterval"]) == (3, 60)
        await charger.call(call.FirmwareStatusNotification(status="Downloading"))
        await charger.call(call.FirmwareStatusNotification(status="DownloadFailed"))
        failed = await job(api, "CP-FW", failing["id"])
        assert (failed["status"], failed["failed"]) == ("DownloadFailed", True) and failed["finishedAt"], failed
        assert statuses(failed) == ["Requested", "Sent", "Downloading", "DownloadFailed"]
        [alert] = await alerts(api, "CP-FW", "firmware_failed")
        assert alert["details"]["jobId"] == failing["id"] and alert["details"]["status"] == "DownloadFailed", alert
        # The first job, finished, is not moved by the second one's notifications.
        assert (await job(api, "CP-FW", created["id"]))["status"] == "Installed"

        for body, field in [({"location": "file:///etc/passwd", "retrieveAt": retrieve_at}, "location"),
                            ({"location": "https://firmware.example.com/x.bin", "retrieveAt": retrieve_at, "retries": 101}, "retries")]:
            status, refused = await api("POST", "/api/v1/stations/CP-FW/firmware", body)
            assert status == 422 and field in str(refused), refused
        assert len(charger.updates) == 2
        await unplug(ws, task)
        status, refused = await api("POST", "/api/v1/stations/CP-FW/firmware",
                                    {"location": "https://firmware.example.com/x.bin", "retrieveAt": retrieve_at})
        assert status == 409, refused
        status, listed = await api("GET", "/api/v1/stations/CP-FW/jobs?kind=firmware")
        assert [item["id"] for item in listed["items"]] == [failing["id"], created["id"]], listed

    asyncio.run(scenario())


def test_diagnostics_and_logs_are_uploaded_once_to_our_single_use_url(server, data_dir):
    headers = admin(server)
    make_station(server, headers, "CP-DIAG")
    api = Api(server, headers)
    prefix = f"http://localhost:{server.port}/api/v1/uploads/"
    # Over maxBodyBytes (1 MiB): uploads have their own limit (2 MB here).
    diagnostics = os.urandom(MEGABYTE + MEGABYTE // 2)
    security_log = b"2026-03-10T09:00:00Z TamperDetectionActivated lid opened\n" * 100

    async def scenario():
        ws, charger, task = await job_charger(server, "CP-DIAG")
        status, created = await api("POST", "/api/v1/stations/CP-DIAG/diagnostics", {})
        assert status == 201, created
        [asked] = charger.diagnostics
        location = asked["location"]
        assert location.startswith(prefix), location
        token = location[len(prefix):]
        assert len(token) >= 20 and token not in json.dumps(created)
        assert (created["kind"], created["fileName"], created["status"]) == ("diagnostics", "diagnostics-CP-DIAG.zip", "Sent"), created
        await charger.call(call.DiagnosticsStatusNotification(status="Uploading"))
        assert (await job(api, "CP-DIAG", created["id"]))["status"] == "Uploading"

        assert await in_thread(upload, prefix + "not-a-token", b"x") == 404
        assert await in_thread(upload, location, diagnostics) == 201
        assert await in_thread(upload, location, b"again") == 404
        stored = data_dir / "uploads" / created["id"]
        assert stored.read_bytes() == diagnostics
        assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
        status, response_headers, raw = await in_thread(server.request, "GET", f"/api/v1/stations/CP-DIAG/jobs/{created['id']}/file", None, headers)
        assert status == 200 and raw == diagnostics
        assert "diagnostics-CP-DIAG.zip" in response_headers["Content-Disposition"]
        uploaded = await job(api, "CP-DIAG", created["id"])
        assert uploaded["uploadBytes"] == len(diagnostics) and uploaded["uploadedAt"] and uploaded.get("finishedAt") is None
        await charger.call(call.DiagnosticsStatusNotification(status="Uploaded"))
        done = await job(api, "CP-DIAG", created["id"])
        assert (done["status"], done["failed"]) == ("Uploaded", False) and done["finishedAt"], done
        assert statuses(done) == ["Requested", "Sent", "Uploading", "Uploaded"]
        status, station = await api("GET", "/api/v1/stations/CP-DIAG")
        assert station["diagnosticsStatus"] == "Uploaded"

        # GetLog: uploaded by POST, matched by requestId; a failed upload may be sent again.
        status, log_job = await api("POST", "/api/v1/stations/CP-DIAG/logs", {"logType": "SecurityLog"})
        assert status == 201, log_job
        [asked] = charger.logs
        assert (asked["logType"], asked["requestId"]) == ("SecurityLog", log_job["requestId"])
        assert (log_job["chargerAnswer"], log_job["fileName"]) == ("Accepted", "SecurityLog.log"), log_job
        log_location = asked["location"]
        assert log_location.startswith(prefix) and log_location != location
        log_token = log_location[len(prefix):]
        await charger.call(call.LogStatusNotification(status="Uploading", request_id=log_job["requestId"]))
        assert await in_thread(upload, log_location, os.urandom(2 * MEGABYTE + MEGABYTE // 2), "POST") == 413
        assert await in_thread(upload, log_location, os.urandom(2 * MEGABYTE + MEGABYTE // 2), "POST", True) == 413
        assert not (data_dir / "uploads" / log_job["id"]).exists()
        assert await in_thread(upload, log_location, security_log, "POST") == 201
        assert await in_thread(upload, log_location, security_log, "POST") == 404
        status, _, raw = await in_thread(server.request, "GET", f"/api/v1/stations/CP-DIAG/jobs/{log_job['id']}/file", None, headers)
        assert status == 200 and raw == security_log
        # Another requestId leaves this job alone.
        await charger.call(call.LogStatusNotification(status="Uploaded", request_id=log_job["requestId"] + 100))
        assert (await job(api, "CP-DIAG", log_job["id"]))["status"] == "Uploading"
        await charger.call(call.LogStatusNotification(status="Uploaded", request_id=log_job["requestId"]))
        done = await job(api, "CP-DIAG", log_job["id"])
        assert (done["status"], done["failed"]) == ("Uploaded", False) and done["finishedAt"], done
        assert statuses(done) == ["Requested", "Accepted", "Uploading", "Uploaded"]

        status, failing = await api("POST", "/api/v1/stations/CP-DIAG/logs", {"logType": "DiagnosticsLog"})
        assert status == 201 and failing["requestId"] == log_job["requestId"] + 1, failing
        await charger.call(call.LogStatusNotification(status="UploadFailure", request_id=failing["requestId"]))
        failed = await job(api, "CP-DIAG", failing["id"])
        assert (failed["status"], failed["failed"]) == ("UploadFailure", True), failed
        [alert] = await alerts(api, "CP-DIAG", "upload_failed")
        assert alert["details"]["jobId"] == failing["id"]
        status, body = await api("POST", "/api/v1/stations/CP-DIAG/logs", {"logType": "EverythingLog"})
        assert status == 422 and "logType" in str(body), body
        await unplug(ws, task)
        return token, log_token

    tokens = asyncio.run(scenario())
    status, log, _ = server.json("GET", "/api/v1/stations/CP-DIAG/ocpp-log?limit=100", headers=headers)
    text = json.dumps(log)
    assert "GetDiagnostics" in text and "GetLog" in text
    # Neither in the message log nor in the server's own log.
    for token in tokens:
        assert token not in text and token not in server.log_text()
