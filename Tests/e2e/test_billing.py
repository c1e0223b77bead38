"""The Billing and monitoring issue's 'done when', through the API of the real binary, plus the SSE stream."""
import json
import threading
import urllib.request

from harness import Server

ENV = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4",
       "CSMS_EVENT_HEARTBEAT_SECONDS": "1"}


def admin_headers(server):
    status, body, _ = server.json("POST", "/api/v1/auth/login",
                                  {"email": "root@example.com", "password": "root-password-1"})
    assert status == 200
    return {"Authorization": "Bearer " + body["accessToken"]}


def test_peak_window_session_invoice_payment_analytics_and_alert(data_dir):
    server = Server(data_dir, env=ENV).start()
    admin = admin_headers(server)
    status, tariff, _ = server.json("POST", "/api/v1/tariffs", {
        "name": "Peak", "currency": "EUR", "energyPrice": "0.30", "timePrice": "1.20", "sessionFee": "0.99",
        "taxRatePercent": "19", "timeZone": "Europe/Berlin",
        "windows": [{"start": "10:00", "end": "11:00", "energyPrice": "0.50", "timePrice": "2.00"}]}, admin)
    assert status == 201, tariff
    status, _, _ = server.json("POST", "/api/v1/stations", {
        "id": "CP1", "name": "One", "tariffId": tariff["id"],
        "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 150}]}, admin)
    assert status == 201

    # 10:00 to 11:30 Berlin time on 2026-03-10 (UTC+1), 22.5 kWh, no meter samples.
    status, session, _ = server.json("POST", "/api/v1/sessions", {
        "stationId": "CP1", "connectorId": 1, "idTag": "CARD", "startedAt": "2026-03-10T10:00:00+01:00",
        "meterStartWh": 100000}, admin)
    assert status == 201, session
    status, stopped, _ = server.json("POST", f"/api/v1/sessions/{session['id']}/stop", {
        "meterStopWh": 122500, "stoppedAt": "2026-03-10T11:30:00+01:00", "reason": "Local"}, admin)
    assert status == 200 and stopped["status"] == "completed"

    # By hand: energy 15 kWh × 0.50 + 7.5 kWh × 0.30 = 7.50 + 2.25; time 1 h × 2.00 + 0.5 h × 1.20 = 2.00 + 0.60;
    # fee 0.99; subtotal 13.34; tax 19 % = 2.5346 → 2.53; total 15.87.
    status, invoices, _ = server.json("GET", "/api/v1/invoices", headers=admin)
    assert len(invoices["items"]) == 1
    invoice = invoices["items"][0]
    assert [line["amount"] for line in invoice["lines"]] == ["7.50", "2.25", "2.00", "0.60", "0.99"]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("13.34", "2.53", "15.87")
    assert invoice["number"] == "INV-2026-000001"

    status, paid, _ = server.json("POST", f"/api/v1/invoices/{invoice['id']}/payments",
                                  {"amount": "5.00", "method": "card", "reference": "A"}, admin)
    assert status == 201 and paid["status"] == "issued" and paid["amountDue"] == "10.87"
    status, paid, _ = server.json("POST", f"/api/v1/invoices/{invoice['id']}/payments",
                                  {"amount": 10.87, "method": "card", "reference": "B"}, admin)
    assert status == 201 and paid["status"] == "paid"

    status, energy, _ = server.json(
        "GET", "/api/v1/analytics/energy?from=2026-03-09T23:00:00Z&to=2026-03-11T23:00:00Z&groupBy=day&tz=Europe/Berlin",
        headers=admin)
    assert [bucket["energyWh"] for bucket in energy["buckets"]] == [22500, 0]
    assert energy["buckets"][0]["start"] == "2026-03-09T23:00:00.000Z"
    status, revenue, _ = server.json(
        "GET", "/api/v1/analytics/revenue?from=2026-03-09T23:00:00Z&to=2026-03-11T23:00:00Z&groupBy=day&tz=Europe/Berlin",
        headers=admin)
    assert revenue["buckets"][0]["revenue"] == {"EUR": "15.87"}

    # A Faulted connector raises one alert, resolved when it is Available again; the SSE stream sees it.
    received = []
    stream_open = threading.Event()

    def listen():
        request = urllib.request.Request(server.base + "/api/v1/events?stationId=CP1", headers=admin)
        with urllib.request.urlopen(request, timeout=10) as response:
            stream_open.set()
            for raw in response:
                line = raw.decode().strip()
                if line.startswith("event: "):
                    received.append(line[len("event: "):])
                if "alert.resolved" in received:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert stream_open.wait(5)
    server.json("PATCH", "/api/v1/stations/CP1/connectors/1", {"status": "Faulted", "errorCode": "GroundFailure"}, admin)
    status, alerts, _ = server.json("GET", "/api/v1/alerts?state=open", headers=admin)
    assert [alert["kind"] for alert in alerts["items"]] == ["connector_faulted"]
    server.json("PATCH", "/api/v1/stations/CP1/connectors/1", {"status": "Available"}, admin)
    status, alerts, _ = server.json("GET", "/api/v1/alerts?state=open", headers=admin)
    assert alerts["items"] == []
    listener.join(10)
    assert received[:4] == ["connector.status", "alert.raised", "connector.status", "alert.resolved"]
    server.stop()
