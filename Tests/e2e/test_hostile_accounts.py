"""Issue 8 (hostile input and faults), the accounts part, through the real binary: revocations and
idempotency keys across a restart and a kill -9, the password policy on every way in, and CLI
commands that leave a live data directory alone."""
import json
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid

from harness import Server, run_cli

ADMIN = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4"}


def login(server, email, password):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": email, "password": password})
    assert status == 200, body
    return {"Authorization": "Bearer " + body["accessToken"]}


def restarted(server, env=ADMIN):
    again = Server(server.data_dir, env=env)
    return again.start()


def test_a_deleted_users_token_stays_refused_after_a_restart(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    admin = login(server, "root@example.com", "root-password-1")
    status, operator, _ = server.json("POST", "/api/v1/users", {
        "email": "op@example.com", "password": "Operator-pass-7", "name": "Op", "role": "operator"}, admin)
    assert status == 201, operator
    op = login(server, "op@example.com", "Operator-pass-7")
    assert server.json("GET", "/api/v1/stations", headers=op)[0] == 200
    assert server.json("DELETE", f"/api/v1/users/{operator['id']}", headers=admin)[0] == 204
    assert server.json("GET", "/api/v1/stations", headers=op)[0] == 401
    assert server.stop() == 0

    again = restarted(server)
    assert again.json("GET", "/api/v1/stations", headers=op)[0] == 401
    assert again.json("POST", "/api/v1/stations", {"id": "GHOST", "name": "g"}, op)[0] == 401
    again.stop(signal.SIGKILL)

    # A crash right after the delete keeps the revocation too.
    third = restarted(server)
    assert third.json("GET", "/api/v1/stations", headers=op)[0] == 401
    third.stop()


def _post_until_stopped(server, headers, keys, answered, stop):
    """Starts sessions with fresh Idempotency-Keys until `stop`; records every key it sent and
    which ones got an answer."""
    while not stop.is_set():
        key = str(uuid.uuid4())
        body = {"stationId": "IDEM", "connectorId": 1, "idTag": "TAG1", "meterStartWh": 0,
                "startedAt": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{len(keys) % 1000:03d}Z"}
        keys.append((key, body))
        request = urllib.request.Request(server.base + "/api/v1/sessions", data=json.dumps(body).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Idempotency-Key", key)
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answered.add(key)
                response.read()
        except urllib.error.HTTPError:
            answered.add(key)
        except OSError:
            return


def test_an_idempotency_key_whose_request_died_with_the_process_is_not_stuck(data_dir):
    """A kill -9 lands while many keyed POSTs are in flight; after the restart, every key whose
    request got no answer is retried (or replayed) — none answers 409 'being processed'."""
    server = Server(data_dir, env=ADMIN).start()
    admin = login(server, "root@example.com", "root-password-1")
    status, body, _ = server.json("POST", "/api/v1/stations", {
        "id": "IDEM", "name": "i", "connectors": [{"connectorId": 1, "type": "CCS2", "maxPowerKw": 50}]}, admin)
    assert status == 201, body
    stuck = []
    for _ in range(4):
        keys, answered, stop = [], set(), threading.Event()
        threads = [threading.Thread(target=_post_until_stopped, args=(server, admin, keys, answered, stop))
                   for _ in range(12)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        server.stop(signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        server = restarted(server)
        admin = login(server, "root@example.com", "root-password-1")
        for key, body in keys:
            if key in answered:
                continue
            status, reply, _ = server.json("POST", "/api/v1/sessions", body, {**admin, "Idempotency-Key": key})
            if status == 409 and "being processed" in (reply or {}).get("detail", ""):
                stuck.append(key)
            else:
                assert status in (200, 201), reply
        if stuck:
            break
    server.stop()
    assert stuck == []


WEAK = ["\u0000" * 8, "Secret-1\u0000suffix", "12345678", "password", " " * 8, "qwertyuiop", "Password1", "\t\tabcdefgh"]


def test_weak_and_control_character_passwords_are_refused_everywhere(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    admin = login(server, "root@example.com", "root-password-1")
    for index, password in enumerate(WEAK):
        status, body, _ = server.json("POST", "/api/v1/auth/register", {
            "email": f"weak{index}@example.com", "password": password, "name": "W"})
        assert status == 422, (password, body)
        assert [error["field"] for error in body["errors"]] == ["password"]
        status, body, _ = server.json("POST", "/api/v1/users", {
            "email": f"weak-op{index}@example.com", "password": password, "name": "W", "role": "operator"}, admin)
        assert status == 422, (password, body)
    # An empty password never matches a stored hash, whatever was stored.
    status, _, _ = server.json("POST", "/api/v1/auth/login", {"email": "weak0@example.com", "password": ""})
    assert status == 401
    status, me, _ = server.json("GET", "/api/v1/auth/me", headers=admin)
    status, body, _ = server.json("PATCH", f"/api/v1/users/{me['id']}", {"password": "letmein1"}, admin)
    assert status == 422, body
    server.stop()

    result = run_cli("user", "add", "--data", str(data_dir), "--role", "operator", "--email", "cli@example.com",
                     input="12345678\n")
    assert result.returncode != 0 and "password" in result.stderr, result.stderr
    result = run_cli("user", "add", "--data", str(data_dir), "--role", "operator", "--email", "cli@example.com",
                     input="Tram-Lantern-92\n", env={"CSMS_BCRYPT_COST": "4"})
    assert result.returncode == 0, result.stderr


def test_a_weak_bootstrap_admin_password_stops_startup(tmp_path):
    server = Server(tmp_path / "data", env={**ADMIN, "CSMS_ADMIN_PASSWORD": "password1"})
    try:
        server.start(timeout=20)
        started = True
    except RuntimeError:
        started = False
    finally:
        server.stop(signal.SIGKILL)
    assert not started
    assert "CSMS_ADMIN_PASSWORD" in server.log_text()


def test_user_add_leaves_a_live_data_directory_alone(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    admin = login(server, "root@example.com", "root-password-1")
    assert server.json("POST", "/api/v1/stations", {"id": "LIVE", "name": "l"}, admin)[0] == 201
    # The charger is connected as far as the running server knows.
    with sqlite3.connect(data_dir / "csms.sqlite", timeout=10) as database:
        database.execute("UPDATE stations SET online = 1 WHERE id = 'LIVE'")
    result = run_cli("user", "add", "--data", str(data_dir), "--role", "operator", "--email", "late@example.com",
                     input="Tram-Lantern-92\n", env={"CSMS_BCRYPT_COST": "4"})
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(data_dir / "csms.sqlite", timeout=10) as database:
        online = database.execute("SELECT online FROM stations WHERE id = 'LIVE'").fetchone()[0]
        startup_rows = database.execute("SELECT count(*) FROM status_history WHERE source = 'startup'").fetchone()[0]
    assert online == 1
    assert startup_rows == 0
    login(server, "late@example.com", "Tram-Lantern-92")
    server.stop()


def test_cli_commands_write_no_signing_secret(tmp_path):
    data = tmp_path / "data"
    result = run_cli("user", "add", "--data", str(data), "--role", "admin", "--email", "first@example.com",
                     input="Tram-Lantern-92\n", env={"CSMS_BCRYPT_COST": "4"})
    assert result.returncode == 0, result.stderr
    assert not (data / "jwt-secret").exists()
