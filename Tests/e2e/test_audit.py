"""The audit log through the real binary: API and dashboard changes are recorded with who, from
where, the request id and the trace id; only admins read them."""
import csv
import http.client
import io
import re
import urllib.parse

from harness import Server, run_cli

ADMIN = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4"}
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def login(server, email, password):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": email, "password": password})
    assert status == 200, body
    return {"Authorization": "Bearer " + body["accessToken"]}


class Browser:
    """A dashboard client that keeps its cookie and does not follow redirects."""

    def __init__(self, server):
        self.server = server
        self.cookie = None

    def send(self, method, path, fields=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        headers = {"User-Agent": "e2e-browser/2.0"}
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        set_cookie = response.getheader("Set-Cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";")[0]
        connection.close()
        return response.status, response.getheader("Location"), text

    def csrf(self, path):
        status, _, html = self.send("GET", path)
        assert status == 200, html[:500]
        return re.search(r'name="_csrf" value="([^"]+)"', html).group(1)


def test_api_and_dashboard_changes_are_audited_with_actor_address_request_and_trace(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    try:
        admin = login(server, "root@example.com", "root-password-1")
        status, me, _ = server.json("GET", "/api/v1/auth/me", headers=admin)
        assert status == 200

        traced = {**admin, "User-Agent": "e2e-api/1.0", "X-Request-ID": "e2e-req-42",
                  "traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"}
        status, body, _ = server.json("POST", "/api/v1/stations", {
            "id": "AUD1", "name": "Audited", "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 50}]}, traced)
        assert status == 201, body
        status, body, _ = server.json("PATCH", "/api/v1/stations/AUD1", {"name": "Audited twice"}, traced)
        assert status == 200, body
        status, _, _ = server.json("PUT", "/api/v1/stations/AUD1/credentials", {"password": "station-secret-12345"}, admin)
        assert status == 204

        status, operator, _ = server.json("POST", "/api/v1/users", {
            "email": "op@example.com", "password": "operator-pass", "name": "Op", "role": "operator"}, admin)
        assert status == 201
        op = login(server, "op@example.com", "operator-pass")

        browser = Browser(server)
        status, location, _ = browser.send("POST", "/ui/login", {"email": "root@example.com", "password": "root-password-1"})
        assert status == 303 and browser.cookie, location
        csrf = browser.csrf("/ui/sites")
        status, location, _ = browser.send("POST", "/ui/sites", {"_csrf": csrf, "name": "Form depot", "timeZone": "UTC"})
        assert status == 303, location

        status, entries, _ = server.json("GET", "/api/v1/audit?stationId=AUD1", headers=admin)
        assert status == 200, entries
        actions = [entry["action"] for entry in entries["items"]]
        assert "station.create" in actions and "station.update" in actions and "connector.create" in actions
        update = next(entry for entry in entries["items"]
                      if entry["action"] == "station.update" and "name" in entry["changes"])
        assert update["actorUserId"] == me["id"] and update["actorRole"] == "admin"
        assert update["address"] == "127.0.0.1"
        assert update["userAgent"] == "e2e-api/1.0"
        assert update["requestId"] == "e2e-req-42"
        assert update["traceId"] == TRACE_ID
        assert update["route"] == "PATCH /api/v1/stations/{id}"
        assert update["changes"]["name"] == {"before": "Audited", "after": "Audited twice"}
        credentials = next(entry for entry in entries["items"] if "password_hash" in entry["changes"])
        assert credentials["changes"]["password_hash"] == {"before": None, "after": "[redacted]"}

        status, sites, _ = server.json("GET", "/api/v1/audit?action=site.create", headers=admin)
        assert status == 200 and len(sites["items"]) == 1
        form = sites["items"][0]
        assert form["route"] == "POST /ui/sites" and form["userAgent"] == "e2e-browser/2.0"
        assert form["actorUserId"] == me["id"] and form["address"] == "127.0.0.1" and form["requestId"]
        assert form["changes"]["name"]["after"] == "Form depot"

        status, _, raw = server.request("GET", "/api/v1/audit/export.csv?stationId=AUD1", headers=admin)
        assert status == 200
        rows = list(csv.DictReader(io.StringIO(raw.decode())))
        assert len(rows) == len(entries["items"]) and any(row["request_id"] == "e2e-req-42" for row in rows)
        assert "station-secret-12345" not in raw.decode()

        assert server.json("GET", "/api/v1/audit", headers=op)[0] == 403
        assert server.json("GET", "/api/v1/audit/export.csv", headers=op)[0] == 403
        assert server.json("GET", "/api/v1/audit")[0] == 401
        assert server.json("DELETE", "/api/v1/audit", headers=admin)[0] in (404, 405)
    finally:
        server.stop()


def test_a_user_added_from_the_command_line_is_audited_without_an_actor(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    try:
        admin = login(server, "root@example.com", "root-password-1")
        result = run_cli("user", "add", "--data", str(data_dir), "--role", "operator", "--email", "cli@example.com",
                         input="Quiet-Harbour-71\n", env={"CSMS_BCRYPT_COST": "4"})
        assert result.returncode == 0, result.stderr
        status, entries, _ = server.json("GET", "/api/v1/audit?action=user.create", headers=admin)
        assert status == 200
        created = [entry for entry in entries["items"] if entry["changes"]["email"]["after"] == "cli@example.com"]
        assert len(created) == 1 and created[0]["route"] == "cli: user add" and "actorUserId" not in created[0]
        assert created[0]["changes"]["password_hash"]["after"] == "[redacted]"
    finally:
        server.stop()
