"""Fault injection through the real binary: kill -9 under concurrent writes, a full disk (a small
tmpfs where this machine may mount one) and a full database (SQLite's page limit), file modes."""
import os
import signal
import sqlite3
import stat
import subprocess
import threading
import time
import urllib.error

import pytest

from harness import WITHOUT_RATE_LIMITS, Server, run_cli

PASSWORD = "Fault-Injection-Pass-73"
ADMIN = {"CSMS_ADMIN_EMAIL": "faults@example.com", "CSMS_ADMIN_PASSWORD": PASSWORD, "CSMS_BCRYPT_COST": "4"}
ADDRESS = "Fault street 1, " + "x" * 480


def login(server):
    status, body, _ = server.json("POST", "/api/v1/auth/login", {"email": ADMIN["CSMS_ADMIN_EMAIL"], "password": PASSWORD})
    assert status == 200, body
    return {"Authorization": "Bearer " + body["accessToken"]}


def create_station(server, auth, station_id):
    return server.json("POST", "/api/v1/stations", {"id": station_id, "name": station_id, "address": ADDRESS}, auth)


def station_ids(server, auth):
    ids, cursor = set(), None
    while True:
        path = "/api/v1/stations?limit=200" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = server.json("GET", path, headers=auth)
        assert status == 200, page
        ids.update(item["id"] for item in page["items"])
        cursor = page.get("nextCursor")
        if not cursor:
            return ids


def assert_check_passes(data_dir):
    result = run_cli("check", "--data", str(data_dir))
    assert result.returncode == 0, result.stdout + result.stderr


def readiness(server):
    status, body, _ = server.json("GET", "/health/ready")
    return status, body


def test_kill_9_under_concurrent_writes_loses_no_acknowledged_write(data_dir):
    acknowledged = set()
    lock = threading.Lock()
    for round_number in range(3):
        server = Server(data_dir, env=ADMIN).start()
        auth = login(server)
        assert acknowledged <= station_ids(server, auth), "acknowledged writes lost before this round"
        stop = threading.Event()

        def write(writer):
            sequence = 0
            while not stop.is_set():
                station_id = f"R{round_number}-W{writer}-{sequence}"
                sequence += 1
                try:
                    status, _, _ = create_station(server, auth, station_id)
                except (OSError, urllib.error.URLError):
                    return  # the process is gone: this write was never acknowledged
                if status == 201:
                    with lock:
                        acknowledged.add(station_id)

        writers = [threading.Thread(target=write, args=(index,)) for index in range(6)]
        for thread in writers:
            thread.start()
        time.sleep(1.5)
        server.stop(signal.SIGKILL)
        stop.set()
        for thread in writers:
            thread.join(timeout=30)
        assert_check_passes(data_dir)

    server = Server(data_dir, env=ADMIN).start()
    try:
        present = station_ids(server, login(server))
        assert len(acknowledged) > 0
        assert acknowledged - present == set(), "acknowledged writes were lost"
        assert create_station(server, login(server), "after-the-crashes")[0] == 201
    finally:
        server.stop()
    assert_check_passes(data_dir)


def fill_until_refused(server, auth, prefix, limit=5000):
    """Creates stations until a write is refused; returns the acknowledged ids and the refusal."""
    acknowledged = set()
    for index in range(limit):
        station_id = f"{prefix}-{index}"
        status, body, headers = create_station(server, auth, station_id)
        if status == 201:
            acknowledged.add(station_id)
            continue
        assert status in (503, 507), (status, body)
        assert headers["Content-Type"] == "application/problem+json"
        return acknowledged, status, body
    pytest.fail(f"{limit} writes fitted; the storage limit was never reached")


@pytest.fixture
def small_filesystem(tmp_path):
    """A 16 MiB tmpfs (needs root and permission to mount); skipped where that is not allowed."""
    mount_point = tmp_path / "small-fs"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the page-limit test covers a full database")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_full_disk_refuses_writes_clearly_and_recovers_when_space_returns(small_filesystem):
    data_dir = small_filesystem / "data"
    server = Server(data_dir, env=ADMIN).start()
    try:
        auth = login(server)
        before, _ = readiness(server)
        assert before == 200

        # Leave about 256 KiB free: the database runs into the end of the disk after a few hundred writes.
        filler = small_filesystem / "filler"
        free = os.statvfs(small_filesystem).f_bavail * os.statvfs(small_filesystem).f_frsize
        with open(filler, "wb") as handle:
            handle.write(b"\0" * max(0, free - (256 << 10)))

        acknowledged, status, problem = fill_until_refused(server, auth, "disk")
        assert status == 507 and problem["type"].endswith("insufficient-storage"), problem
        status, report = readiness(server)
        assert status == 503 and report["status"] == "unhealthy", report
        assert report["checks"]["disk"]["status"] == "fail"
        assert server.json("GET", "/health")[0] == 200
        assert_check_passes(data_dir)

        filler.unlink()
        assert create_station(server, auth, "disk-after")[0] == 201
        status, report = readiness(server)
        assert status == 200, report
        assert acknowledged | {"disk-after"} <= station_ids(server, auth)
    finally:
        server.stop()
    assert_check_passes(data_dir)


def test_full_database_refuses_writes_clearly_and_recovers_when_the_limit_is_raised(data_dir):
    server = Server(data_dir, env=ADMIN).start()
    server.stop()
    with sqlite3.connect(data_dir / "csms.sqlite") as database:
        pages = database.execute("PRAGMA page_count").fetchone()[0]

    # 400 KiB of room: ready at first (more than the 256 KiB the readiness check wants), full soon.
    limited = Server(data_dir, env={**ADMIN, **WITHOUT_RATE_LIMITS, "CSMS_DB_MAX_PAGE_COUNT": str(pages + 100)}).start()
    try:
        auth = login(limited)
        assert readiness(limited)[0] == 200
        acknowledged, status, problem = fill_until_refused(limited, auth, "pages")
        assert status == 507 and problem["type"].endswith("insufficient-storage"), problem
        assert "database is full" in problem["detail"]
        status, report = readiness(limited)
        assert status == 503 and report["checks"]["database"]["status"] == "fail", report
        assert "size limit" in report["checks"]["database"]["message"]
        assert_check_passes(data_dir)
    finally:
        assert limited.stop() == 0

    raised = Server(data_dir, env={**ADMIN, **WITHOUT_RATE_LIMITS, "CSMS_DB_MAX_PAGE_COUNT": "0"}).start()
    try:
        auth = login(raised)
        assert create_station(raised, auth, "pages-after")[0] == 201
        assert readiness(raised)[0] == 200
        assert acknowledged | {"pages-after"} <= station_ids(raised, auth)
    finally:
        raised.stop()
    assert_check_passes(data_dir)


def test_data_directory_database_and_backups_are_owner_only(data_dir, tmp_path):
    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    previous = os.umask(0o022)
    try:
        server = Server(data_dir, env=ADMIN).start()
        try:
            login(server)
            assert mode(data_dir) == 0o700
            for name in ("csms.sqlite", "csms.sqlite-wal", "csms.sqlite-shm", "jwt-secret"):
                assert mode(data_dir / name) == 0o600, name
            backup = tmp_path / "copy.sqlite"
            result = run_cli("backup", "--data", str(data_dir), "--to", str(backup))
            assert result.returncode == 0, result.stderr
            assert mode(backup) == 0o600
        finally:
            server.stop()

        # A data directory and database left readable by others are tightened at the next start.
        os.chmod(data_dir, 0o755)
        os.chmod(data_dir / "csms.sqlite", 0o644)
        server = Server(data_dir, env=ADMIN).start()
        try:
            assert mode(data_dir) == 0o700
            assert mode(data_dir / "csms.sqlite") == 0o600
        finally:
            server.stop()
    finally:
        os.umask(previous)


def test_readiness_answers_503_while_the_writer_cannot_get_through(server, data_dir):
    # Another process holding the write lock stalls the server's writer.
    blocker = sqlite3.connect(data_dir / "csms.sqlite", timeout=10, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        status, report = readiness(server)
        elapsed = time.monotonic() - started
        assert status == 503, report
        assert report["checks"]["database"]["status"] == "fail"
        assert elapsed < 10, f"readiness took {elapsed:.1f} s"
        assert server.json("GET", "/health")[0] == 200
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    deadline = time.monotonic() + 20
    while readiness(server)[0] != 200:
        assert time.monotonic() < deadline, "readiness did not recover after the stall"
        time.sleep(0.5)
