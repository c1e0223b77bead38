"""The Foundation issue's 'done when', through the real binary."""
import signal
import sqlite3

from harness import Server, run_cli


def test_database_is_created_in_wal_mode_with_a_schema(server, data_dir):
    database = sqlite3.connect(data_dir / "csms.sqlite")
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute("PRAGMA user_version").fetchone()[0] >= 1
    database.close()


def test_health_readiness_and_metrics(server):
    status, body, _ = server.json("GET", "/health")
    assert status == 200 and body == {"status": "ok"}

    status, body, _ = server.json("GET", "/health/ready")
    assert status == 200
    assert body["status"] in ("healthy", "degraded")
    assert set(body["checks"]) == {"database", "disk", "memory"}
    assert body["checks"]["database"]["status"] == "pass"
    assert "uptimeSeconds" in body and "version" in body

    for name in ("a", "b"):
        server.request("GET", f"/api/v1/services/{name}")
    status, _, raw = server.request("GET", "/metrics")
    text = raw.decode()
    assert status == 200
    assert 'route="/api/v1/services/{name}",status="401"} 2' in text
    assert 'route="/health/ready",status="200"} 1' in text
    assert "/api/v1/services/a" not in text


def test_problem_json_for_client_mistakes(server):
    status, body, headers = server.json("GET", "/api/v1/nope")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    assert body["status"] == 404 and body["requestId"] == headers["X-Request-ID"]
    status, headers, _ = server.request("DELETE", "/health")
    assert status == 405 and headers["Allow"] == "GET"


def test_sigterm_exits_zero_and_leaves_a_sound_database(data_dir):
    instance = Server(data_dir).start()
    instance.json("POST", "/api/v1/services", {"name": "x", "url": "http://127.0.0.1:9"})
    assert instance.stop(signal.SIGTERM) == 0
    assert '"message":"stopped"' in instance.log_text()
    check = run_cli("check", "--data", str(data_dir))
    assert check.returncode == 0, check.stderr
    assert "ok" in check.stdout


def test_bad_configuration_exits_non_zero_naming_the_key(data_dir):
    result = run_cli("--data", str(data_dir), "--port", "99999")
    assert result.returncode != 0
    assert "port" in result.stderr and "99999" in result.stderr
    result = run_cli("--data", str(data_dir), env={"CSMS_LOG_FORMAT": "yaml"})
    assert result.returncode != 0
    assert "logFormat" in result.stderr and "CSMS_LOG_FORMAT" in result.stderr


def test_port_in_use_fails_fast_and_clearly(server, data_dir):
    other = data_dir.parent / "other"
    result = run_cli("--data", str(other), "--port", str(server.port))
    assert result.returncode != 0
    assert "already in use" in result.stderr


def test_corrupt_or_newer_database_is_refused(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "csms.sqlite").write_bytes(b"this is not a database" * 500)
    result = run_cli("--data", str(data_dir), "--port", "0")
    assert result.returncode != 0
    assert "corrupt or not a SQLite database" in result.stderr

    (data_dir / "csms.sqlite").unlink()
    database = sqlite3.connect(data_dir / "csms.sqlite")
    database.execute("PRAGMA user_version = 999")
    database.commit()
    database.close()
    result = run_cli("--data", str(data_dir), "--port", "0")
    assert result.returncode != 0
    assert "schema version 999" in result.stderr


def test_backup_of_a_running_server_is_a_sound_copy(server, data_dir):
    target = data_dir.parent / "backup.sqlite"
    result = run_cli("backup", "--data", str(data_dir), "--to", str(target))
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA user_version").fetchone()[0] >= 1
    copy.close()
    again = run_cli("backup", "--data", str(data_dir), "--to", str(target))
    assert again.returncode != 0 and "already exists" in again.stderr


def test_migrate_command_is_idempotent(data_dir):
    first = run_cli("migrate", "--data", str(data_dir))
    assert first.returncode == 0, first.stderr
    second = run_cli("migrate", "--data", str(data_dir))
    assert second.returncode == 0 and "up to date" in second.stdout
