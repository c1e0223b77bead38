"""The audit trail in a real Chromium: the admin page with its filters, and a station's panel."""
from playwright.sync_api import expect

from dashboard_setup import api_admin, make_station, sign_in


def test_the_audit_page_and_a_stations_panel_show_the_changes_made(server, page):
    headers = api_admin(server)
    make_station(server, headers, "CP-AUDIT")
    status, _, _ = server.json("PATCH", "/api/v1/stations/CP-AUDIT", {"name": "Audited station"}, headers)
    assert status == 200
    sign_in(page, server)

    page.goto(f"{server.base}/ui")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    entries = page.locator("#audit-entries")
    expect(entries).to_contain_text("station.update")
    expect(entries).to_contain_text("PATCH /api/v1/stations/{id}")

    page.get_by_label("Action").fill("station.update")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-entries tbody tr")).to_have_count(1)
    expect(entries).to_contain_text("Audited station")
    expect(entries).not_to_contain_text("station.create")

    page.goto(f"{server.base}/ui/stations/CP-AUDIT")
    panel = page.locator("#audit-panel")
    expect(panel.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(panel).to_contain_text("station.update")
    expect(panel).to_contain_text("connector.create")
    panel.get_by_role("link", name="The whole audit trail").click()
    expect(page.get_by_label("Station")).to_have_value("CP-AUDIT")
