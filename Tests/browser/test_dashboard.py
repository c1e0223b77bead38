"""The operator dashboard in a real Chromium: sign-in, live updates from a real charge point,
commands from the station page, and the security headers on every page."""
import re

from ocpp.v16 import call
from playwright.sync_api import expect

from conftest import screenshot
from dashboard_setup import api_admin, connect, make_station, sign_in

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

MAIN_PAGES = ["/ui/sessions", "/ui/invoices", "/ui/drivers", "/ui/id-tags", "/ui/tariffs", "/ui/alerts", "/ui/analytics",
              "/ui/users", "/ui/audit", "/ui/system"]


def test_sign_in_refuses_a_wrong_password_and_a_driver_and_lets_an_admin_in(server, page):
    page.expected_statuses = {(401, "Unauthorized"), (403, "Forbidden")}
    response = page.goto(f"{server.base}/")
    assert page.url.endswith("/ui/login?next=%2Fui")
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-frame-options"] == "DENY"

    sign_in(page, server, password="wrong-password-1")
    expect(page.get_by_role("status")).to_have_text("Wrong email or password.")

    status, _, _ = server.json("POST", "/api/v1/auth/register",
                               {"email": "driver@example.com", "password": "driver-password-1", "name": "Dee River"})
    assert status == 201
    sign_in(page, server, email="driver@example.com", password="driver-password-1")
    expect(page.get_by_role("status")).to_contain_text("for operators and admins")
    assert page.context.cookies() == []

    sign_in(page, server)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    cookie = page.context.cookies()[0]
    assert cookie["name"] == "csms_session" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    screenshot(page, "overview")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{server.base}/ui/stations")
    assert "/ui/login" in page.url


def test_a_charger_turns_its_badge_charging_without_a_reload_and_a_remote_start_reaches_it(server, page, charger_loop):
    headers = api_admin(server)
    status, tariff, _ = server.json("POST", "/api/v1/tariffs",
                                    {"name": "Flat", "currency": "EUR", "energyPrice": "0.40", "taxRatePercent": "20"}, headers)
    assert status == 201
    make_station(server, headers, "CP-UI-1", tariff["id"])
    server.json("PUT", "/api/v1/id-tags/RFID-UI", {"status": "Accepted"}, headers)

    sign_in(page, server)
    page.goto(f"{server.base}/ui/stations/CP-UI-1")
    badge = page.locator('[data-connector-badge="CP-UI-1/1"]').first
    expect(badge).to_have_text("Unavailable")
    expect(page.locator("#live-status")).to_have_text("live")
    page.evaluate("window.__notReloaded = true")

    charger = charger_loop.run(connect(server, "CP-UI-1"))
    charger_loop.run(charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging")))
    expect(badge).to_have_text("Charging")
    assert "status-charging" in badge.get_attribute("class")
    assert page.evaluate("window.__notReloaded") is True

    # A remote start from the station page reaches the charger and shows its answer.
    page.locator("#command-remote-start").get_by_label("Id tag").fill("RFID-UI")
    page.locator("#command-remote-start").get_by_role("button", name="Remote start").click()
    expect(page.get_by_role("status")).to_contain_text('remote-start: the charger answered {"status":"Accepted"}')
    assert charger.remote_starts == [("RFID-UI", 1)]

    # The session appears with its energy, and the energy moves as meter values arrive, live.
    page.evaluate("window.__notReloaded = true")
    started = charger_loop.run(charger.call(call.StartTransaction(
        connector_id=1, id_tag="RFID-UI", meter_start=1000, timestamp="2026-11-28T10:00:00Z")))
    transaction = started.transaction_id
    expect(page.locator("#active-sessions")).to_contain_text("RFID-UI")
    charger_loop.run(charger.call(call.MeterValues(connector_id=1, transaction_id=transaction, meter_value=[
        {"timestamp": "2026-11-28T10:10:00Z", "sampledValue": [{"value": "3500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}])))
    expect(page.locator("#active-sessions .session-energy")).to_have_text("2.500 kWh")
    assert page.evaluate("window.__notReloaded") is True
    # The message log is read when the page is: newest first, each call with its answer.
    page.reload()
    first_row = page.locator("#ocpp-log tbody tr").first
    expect(first_row).to_contain_text("MeterValues")
    first_row.get_by_text("call").click()
    expect(first_row.locator("pre").first).to_contain_text('"transactionId":%d' % transaction)
    screenshot(page, "station")

    page.goto(f"{server.base}/ui/stations")
    expect(page.locator('[data-station-online="CP-UI-1"]')).to_have_text("online")
    screenshot(page, "stations")
    charger_loop.run(charger._connection.close())
    expect(page.locator('[data-station-online="CP-UI-1"]')).to_have_text("offline", timeout=15000)


def test_a_command_to_a_disconnected_charger_shows_the_error_inline(server, page):
    headers = api_admin(server)
    make_station(server, headers, "CP-UI-OFF")
    sign_in(page, server)
    page.goto(f"{server.base}/ui/stations/CP-UI-OFF")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.locator("#command-unlock").get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("status")).to_contain_text("unlock failed: station CP-UI-OFF is not connected")
    assert dialogs == ["Unlock this connector?"]


def test_every_page_carries_the_policy_and_has_no_console_errors(server, page):
    headers = api_admin(server)
    make_station(server, headers, "CP-UI-2")
    sign_in(page, server)
    for path in ["/ui", "/ui/stations", "/ui/stations?q=Depot&online=false", "/ui/stations/CP-UI-2", *MAIN_PAGES, "/ui/login"]:
        response = page.goto(f"{server.base}{path}")
        assert response.status == 200, path
        assert response.headers["content-security-policy"] == CSP, path
        assert response.headers["x-frame-options"] == "DENY", path
    page.expected_statuses = {(404, "Not Found")}
    response = page.goto(f"{server.base}/ui/stations/NOPE")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert re.search(r"request [0-9a-f-]+", page.content())


def test_a_station_is_added_changed_given_a_password_and_decommissioned_from_the_browser(server, page):
    headers = api_admin(server)
    sign_in(page, server)
    page.goto(f"{server.base}/ui/stations")
    page.locator("#new-station summary").click()
    page.get_by_label("Charge point id").fill("CP-NEW")
    page.get_by_label("Name", exact=True).fill("Harbour 1")
    page.locator("#connector2-type").select_option("Type2")
    page.locator("#connector2-power").fill("22")
    page.get_by_role("button", name="Add station").click()
    expect(page.get_by_role("status")).to_have_text("new station: CP-NEW added with 2 connectors")
    status, station, _ = server.json("GET", "/api/v1/stations/CP-NEW", None, headers)
    assert [(c["connectorId"], c["type"], c["maxPowerKw"]) for c in station["connectors"]] == [(1, "CCS2", 50), (2, "Type2", 22)]

    page.locator("#edit-name").fill("Harbour One")
    page.locator("#station-edit").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("settings: saved")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour One")

    page.locator("#charger-password").fill("short")
    page.locator("#charger-password").evaluate("element => element.removeAttribute('minlength')")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("charger password failed: password: must be 16–40 printable ASCII")
    page.locator("#charger-password").fill("a-very-long-secret-1")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("charger password: set")
    status, station, _ = server.json("GET", "/api/v1/stations/CP-NEW", None, headers)
    assert station["hasPassword"] is True and "a-very-long-secret-1" not in server.log_text()

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Decommission").click()
    expect(page.get_by_role("status")).to_have_text("decommission: CP-NEW is decommissioned")
    status, station, _ = server.json("GET", "/api/v1/stations/CP-NEW", None, headers)
    assert station["status"] == "decommissioned"


def test_pages_fit_a_360_pixel_phone_and_work_by_keyboard(server, browser):
    headers = api_admin(server)
    make_station(server, headers, "CP-PHONE")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        sign_in(page, server)
        for path in ["/ui", "/ui/stations", "/ui/stations/CP-PHONE", *MAIN_PAGES]:
            page.goto(f"{server.base}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{path} is {width} px wide"
        # The sign-out button is reachable with the keyboard alone.
        page.goto(f"{server.base}/ui")
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent") == "Sign out":
                break
        else:
            raise AssertionError("Sign out is not reachable by Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    finally:
        context.close()
