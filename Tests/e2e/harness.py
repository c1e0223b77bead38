"""Runs the real `server` binary on a free port with a temporary data directory."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("CSMS_SERVER_BINARY", str(ROOT / ".build" / "debug" / "server"))
# For tests whose point is volume (filling a disk, generated requests by the thousand): the
# per-client limits would answer 429 long before, so they are lifted there. test_rate_limits.py
# tests the limits themselves.
WITHOUT_RATE_LIMITS = {f"CSMS_RATE_LIMIT_{name}": "off" for name in ("AUTH", "READS", "WRITES", "COMMANDS", "EXPORTS")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, extra_args=(), env=None):
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self.extra_args = list(extra_args)
        self.env = {**os.environ, **(env or {})}
        self.process = None

    def start(self, timeout=20.0):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [BINARY, "--data", str(self.data_dir), "--port", str(self.port), *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_text()}")
            try:
                if self.request("GET", "/health")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout}s: {self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method, path, body=None, headers=None):
        status, response_headers, raw = self.request(method, path, body, headers)
        return status, (json.loads(raw) if raw else None), response_headers

    def stop(self, sig=15, timeout=20.0) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()


def temporary_data_dir():
    with tempfile.TemporaryDirectory(prefix="csms-e2e-") as directory:
        yield Path(directory) / "data"


def run_cli(*args, env=None, input=None):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, input=input)
