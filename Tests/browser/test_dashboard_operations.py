"""The dashboard's money and operations pages in a real Chromium: an invoice after a real
charger's stop, partial and full payment, blocking a tag, acknowledging an alert, the charts."""
from datetime import datetime, timedelta, timezone

from ocpp.v16 import call
from playwright.sync_api import expect

from conftest import screenshot
from dashboard_setup import api_admin, connect, make_station, sign_in


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_invoice_after_a_real_stop_is_paid_in_two_parts(server, page, charger_loop):
    headers = api_admin(server)
    status, tariff, _ = server.json("POST", "/api/v1/tariffs",
                                    {"name": "Flat", "currency": "EUR", "energyPrice": "0.40", "taxRatePercent": "20"}, headers)
    assert status == 201
    make_station(server, headers, "CP-BILL", tariff["id"])
    server.json("PUT", "/api/v1/id-tags/RFID-BILL", {"status": "Accepted"}, headers)

    now = datetime.now(timezone.utc).replace(microsecond=0)
    charger = charger_loop.run(connect(server, "CP-BILL"))
    started = charger_loop.run(charger.call(call.StartTransaction(
        connector_id=1, id_tag="RFID-BILL", meter_start=1000, timestamp=iso(now - timedelta(minutes=40)))))
    charger_loop.run(charger.call(call.StopTransaction(
        meter_stop=11000, timestamp=iso(now - timedelta(minutes=10)), transaction_id=started.transaction_id)))

    sign_in(page, server)
    page.goto(f"{server.base}/ui/sessions")
    row = page.locator("#sessions tbody tr").first
    expect(row).to_contain_text("RFID-BILL")
    expect(row).to_contain_text("10.000 kWh")
    expect(row).to_contain_text("4.80 EUR")
    screenshot(page, "sessions")
    row.get_by_role("link", name="invoice").click()

    # 10 kWh at 0.40 EUR is 4.00, with 20 % tax 4.80.
    expect(page.locator("#invoice-total")).to_have_text("4.80 EUR")
    expect(page.locator("#invoice-status")).to_have_text("issued")
    page.get_by_label("Amount (EUR)").fill("2.00")
    page.get_by_label("Reference").fill("till-1")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status")).to_have_text("payment: recorded 2.00 EUR; the invoice is issued")
    expect(page.locator("#invoice-paid")).to_have_text("2.00 EUR")
    expect(page.locator("#invoice-outstanding")).to_have_text("2.80 EUR")

    # The form offers what is still owed.
    expect(page.get_by_label("Amount (EUR)")).to_have_value("2.80")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status")).to_have_text("payment: recorded 2.80 EUR; the invoice is paid")
    expect(page.locator("#invoice-status")).to_have_text("paid")
    expect(page.locator("#payments tbody tr")).to_have_count(2)
    screenshot(page, "invoice")

    # The day's energy and revenue are in the charts.
    yesterday = now - timedelta(days=1)
    page.goto(f"{server.base}/ui/analytics?metric=revenue&groupBy=day&from={yesterday:%Y-%m-%d}&to={now:%Y-%m-%d}")
    expect(page.locator("#analytics-table")).to_contain_text("4.80 EUR")
    screenshot(page, "analytics")
    page.go_back()

    invoice_id = page.url.split("/ui/invoices/")[1].split("?")[0]
    status, stored, _ = server.json("GET", f"/api/v1/invoices/{invoice_id}", None, headers)
    assert stored["status"] == "paid" and stored["amountPaid"] == "4.80"
    assert [payment["amount"] for payment in stored["payments"]] == ["2.00", "2.80"]


def test_blocking_a_tag_and_acknowledging_an_alert(server, page, charger_loop):
    headers = api_admin(server)
    make_station(server, headers, "CP-OPS")
    server.json("PUT", "/api/v1/id-tags/RFID-OPS", {"status": "Accepted"}, headers)

    sign_in(page, server)
    page.goto(f"{server.base}/ui/id-tags")
    row = page.locator('[data-id-tag="RFID-OPS"]')
    expect(row.locator(".tag-status")).to_have_text("Accepted")
    row.get_by_role("button", name="Block").click()
    expect(page.get_by_role("status")).to_have_text("RFID-OPS saved: Blocked")
    expect(page.locator('[data-id-tag="RFID-OPS"] .tag-status')).to_have_text("Blocked")
    status, tag, _ = server.json("GET", "/api/v1/id-tags/RFID-OPS", None, headers)
    assert tag["status"] == "Blocked"
    screenshot(page, "id-tags")

    # A faulted connector raises an alert; the open alerts list shows it without a reload.
    page.goto(f"{server.base}/ui/alerts")
    expect(page.locator("#alert-table")).to_contain_text("No alerts.")
    expect(page.locator("#live-status")).to_have_text("live")
    charger = charger_loop.run(connect(server, "CP-OPS"))
    charger_loop.run(charger.call(call.StatusNotification(connector_id=1, error_code="GroundFailure", status="Faulted")))
    alert_row = page.locator("#alerts tbody tr").first
    expect(alert_row).to_contain_text("connector_faulted")
    expect(alert_row.locator(".alert-state")).to_have_text("open")
    alert_row.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("acknowledge:")
    # The connector's time shows in the utilization chart: one bar per class.
    page.goto(f"{server.base}/ui/analytics")
    expect(page.locator("#utilization")).to_contain_text("CP-OPS #1")
    expect(page.locator("svg.chart").nth(1).locator("rect.bar")).to_have_count(5)
    page.go_back()
    status, alerts, _ = server.json("GET", "/api/v1/alerts?state=acknowledged", None, headers)
    assert [alert["kind"] for alert in alerts["items"]] == ["connector_faulted"]
    page.goto(f"{server.base}/ui/alerts?state=acknowledged")
    expect(page.locator("#alerts tbody tr")).to_have_count(1)
    screenshot(page, "alerts")


def test_analytics_draws_one_bar_per_bucket(server, page):
    sign_in(page, server)
    page.goto(f"{server.base}/ui/analytics?metric=energy&groupBy=day&from=2026-11-01&to=2026-11-07")
    expect(page.locator("svg.chart rect.bar")).to_have_count(7)
    expect(page.locator("#analytics-table tbody tr")).to_have_count(7)
    page.goto(f"{server.base}/ui/analytics?metric=sessions&groupBy=hour&from=2026-11-28&to=2026-11-28")
    expect(page.locator("svg.chart rect.bar")).to_have_count(24)
    page.goto(f"{server.base}/ui/analytics")
    expect(page.locator("svg.chart rect.bar")).to_have_count(7)


def test_the_remaining_pages_render_for_an_admin(server, page):
    sign_in(page, server)
    for path, heading in [("/ui/tariffs", "Tariffs"), ("/ui/drivers", "Drivers"), ("/ui/users", "Users"),
                          ("/ui/system", "System")]:
        response = page.goto(f"{server.base}{path}")
        assert response.status == 200, path
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        screenshot(page, path.rsplit("/", 1)[1])
    expect(page.locator("#system-status")).to_have_text("healthy")


def test_a_tariff_with_a_night_window_and_a_driver_with_a_card_are_set_up_in_the_browser(server, page):
    headers = api_admin(server)
    sign_in(page, server)
    page.goto(f"{server.base}/ui/tariffs")
    page.locator("#new-tariff summary").click()
    page.get_by_label("Name", exact=True).fill("Night saver")
    page.get_by_label("Energy price per kWh").fill("0.40")
    page.get_by_label("Tax %").fill("20")
    page.locator("#window1-start").fill("22:00")
    page.locator("#window1-end").fill("06:00")
    page.locator("#window1-energy").fill("0.25")
    page.get_by_role("button", name="Add tariff").click()
    expect(page.get_by_role("status")).to_have_text("new tariff: Night saver added")
    tariff_id = page.url.split("/ui/tariffs/")[1].split("?")[0]
    status, tariff, _ = server.json("GET", f"/api/v1/tariffs/{tariff_id}", None, headers)
    assert tariff["energyPrice"] == "0.40" and tariff["taxRatePercent"] == "20.00"
    assert [(w["start"], w["end"], w["energyPrice"]) for w in tariff["windows"]] == [("22:00", "06:00", "0.25")]

    # The quote calculator prices 10 kWh over a midday hour at the base price: 4.00 + 20 % = 4.80;
    # the same hour at night at the window's price: 2.50 + 20 % = 3.00. The start is pinned, so
    # the answer does not depend on when the test runs.
    page.get_by_label("Energy (kWh)").fill("10")
    page.locator("#startAt").fill("2026-06-01T12:00:00Z")
    page.get_by_role("button", name="Quote").click()
    expect(page.locator("#quote-total")).to_have_text("4.80 EUR")
    page.locator("#startAt").fill("2026-06-01T23:00:00Z")
    page.get_by_role("button", name="Quote").click()
    expect(page.locator("#quote-total")).to_have_text("3.00 EUR")

    page.locator("#tariff-energy").fill("0.50")
    page.locator("#window1-start").fill("")
    page.locator("#window1-end").fill("")
    page.get_by_role("button", name="Save tariff").click()
    expect(page.get_by_role("status")).to_have_text("tariff: Night saver saved")
    status, tariff, _ = server.json("GET", f"/api/v1/tariffs/{tariff_id}", None, headers)
    assert tariff["energyPrice"] == "0.50" and tariff["windows"] == []

    page.locator("#tariff-energy").fill("-1")
    page.get_by_role("button", name="Save tariff").click()
    expect(page.get_by_role("status")).to_contain_text("tariff failed:")
    screenshot(page, "tariff")

    page.goto(f"{server.base}/ui/drivers")
    page.get_by_label("Name", exact=True).fill("Ada Driver")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Add driver").click()
    expect(page.get_by_role("status")).to_have_text("new driver: Ada Driver added")
    expect(page.locator("#drivers")).to_contain_text("ada@example.com")

    page.goto(f"{server.base}/ui/id-tags")
    page.get_by_label("Tag", exact=True).fill("CARD-ADA")
    page.get_by_label("Driver").select_option(label="Ada Driver <ada@example.com>")
    page.get_by_label("Expires after").fill("2027-01-31")
    page.get_by_role("button", name="Save tag").click()
    expect(page.get_by_role("status")).to_have_text("CARD-ADA created: Accepted")
    status, tag, _ = server.json("GET", "/api/v1/id-tags/CARD-ADA", None, headers)
    assert tag["driverId"] and tag["expiresAt"] == "2027-02-01T00:00:00.000Z"
