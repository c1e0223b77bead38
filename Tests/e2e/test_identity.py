"""The Identity issue's 'done when', through the real binary, across a restart and a kill -9."""
import signal

from harness import Server

ADMIN = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4"}


def login(server, email, password):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": email, "password": password})
    assert status == 200, body
    return {"Authorization": "Bearer " + body["accessToken"]}


def test_operator_station_driver_and_id_tag_flow_survives_restart(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    admin = login(server, "root@example.com", "root-password-1")

    status, operator, _ = server.json("POST", "/api/v1/users", {
        "email": "op@example.com", "password": "operator-pass", "name": "Op", "role": "operator"}, admin)
    assert status == 201 and operator["role"] == "operator"
    op = login(server, "op@example.com", "operator-pass")

    for station_id, lat, lon in (("FAR", 52.3906, 13.0645), ("NEAR", 52.5163, 13.3777), ("MID", 52.5219, 13.4132)):
        status, body, _ = server.json("POST", "/api/v1/stations", {
            "id": station_id, "name": station_id, "latitude": lat, "longitude": lon,
            "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 150},
                           {"connectorId": 2, "type": "Type2", "maxPowerKw": 22}]}, op)
        assert status == 201, body
        assert len(body["connectors"]) == 2

    status, registered, _ = server.json("POST", "/api/v1/auth/register", {
        "email": "driver@example.com", "password": "driver-pass", "name": "Driver"})
    assert status == 201
    driver = login(server, "driver@example.com", "driver-pass")
    status, nearby, _ = server.json("GET", "/api/v1/stations?near=52.5163,13.3777&radiusKm=50", headers=driver)
    assert status == 200
    assert [item["id"] for item in nearby["items"]] == ["NEAR", "MID", "FAR"]
    assert nearby["items"][0]["distanceKm"] == 0
    status, _, _ = server.json("POST", "/api/v1/stations", {"id": "MINE", "name": "x"}, driver)
    assert status == 403

    status, tag, _ = server.json("PUT", "/api/v1/id-tags/RFID-0001", {
        "status": "Accepted", "driverId": registered["driverId"]}, op)
    assert status == 201
    status, _, _ = server.json("PUT", "/api/v1/id-tags/RFID-0001", {"status": "Blocked", "driverId": registered["driverId"]}, op)
    assert status == 200
    status, decision, _ = server.json("POST", "/api/v1/id-tags/rfid-0001/authorize", {}, op)
    assert status == 200 and decision["idTagInfo"]["status"] == "Blocked"
    assert server.stop(signal.SIGTERM) == 0

    # Everything is still there after a restart, and the old tokens still work (same signing key).
    again = Server(data_dir, env=ADMIN)
    again.port = server.port
    again.base = server.base
    again.start()
    status, station, _ = again.json("GET", "/api/v1/stations/NEAR", headers=driver)
    assert status == 200 and station["name"] == "NEAR"
    status, decision, _ = again.json("POST", "/api/v1/id-tags/RFID-0001/authorize", {}, op)
    assert decision["idTagInfo"]["status"] == "Blocked"
    status, me, _ = again.json("GET", "/api/v1/me/driver", headers=driver)
    assert status == 200 and me["driver"]["email"] == "driver@example.com"
    assert again.stop() == 0
    assert "root-password-1" not in again.log_text() + server.log_text()


def test_acknowledged_writes_survive_kill_9(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    admin = login(server, "root@example.com", "root-password-1")
    for index in range(20):
        status, _, _ = server.json("POST", "/api/v1/stations", {"id": f"K{index}", "name": "k"}, admin)
        assert status == 201
    server.stop(signal.SIGKILL)

    again = Server(data_dir, env=ADMIN).start()
    admin = login(again, "root@example.com", "root-password-1")
    status, listing, _ = again.json("GET", "/api/v1/stations?limit=100", headers=admin)
    assert sorted(item["id"] for item in listing["items"]) == sorted(f"K{index}" for index in range(20))
    again.stop()


def test_first_admin_hint_is_logged_once_without_credentials(data_dir):
    server = Server(data_dir).start()
    server.stop()
    assert server.log_text().count("no admin account exists") == 1
