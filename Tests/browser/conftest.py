"""Browser suite: Playwright for Python drives Debian's chromium against the real binary."""
import asyncio
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from harness import Server, temporary_data_dir  # noqa: E402

ENV = {"CSMS_ADMIN_EMAIL": "root@example.com", "CSMS_ADMIN_PASSWORD": "root-password-1", "CSMS_BCRYPT_COST": "4",
       "CSMS_OCPP_CALL_TIMEOUT_SECONDS": "5", "CSMS_EVENT_HEARTBEAT_SECONDS": "2"}

# Where the suite writes a screenshot of each main page (the README's come from here; see
# `docs/README.md` for the command that refreshes them).
SCREENSHOTS = Path(os.environ.get("CSMS_SCREENSHOT_DIR", Path(__file__).resolve().parent / ".screenshots"))


def chromium_path():
    for candidate in (os.environ.get("CSMS_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("Debian's chromium is needed: apt-get install chromium (or set CSMS_CHROMIUM)")


@pytest.fixture
def data_dir():
    yield from temporary_data_dir()


@pytest.fixture
def server(data_dir):
    instance = Server(data_dir, env=ENV).start()
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh page that fails the test on any console error or uncaught exception."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A test that opens a refusal on purpose (a wrong password is a 401 page) lists its statuses:
    # Chromium reports every such document load as a console error.
    page.expected_statuses = set()
    yield page
    context.close()
    unexpected = [problem for problem in problems
                  if not any(problem == f"Failed to load resource: the server responded with a status of {status} "
                             f"({reason})" for status, reason in page.expected_statuses)]
    assert unexpected == [], f"console errors: {unexpected}"


class AsyncThread:
    """An asyncio loop on its own thread, so the `ocpp` charge point runs beside Playwright's sync API."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout=15):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self):
        async def cancel_all():
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def charger_loop():
    loop = AsyncThread()
    yield loop
    loop.stop()


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
