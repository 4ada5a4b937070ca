"""The web page in a real headless Chromium: search, highlights, article, story side by side, sources.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright``
Python package; skips with the reason when either is missing.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .apps import app_for
from .seed import Archive, archive

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]

if not Path(CHROMIUM).exists():
    pytest.skip(
        "Chromium not installed (apt-get install -y chromium chromium-driver)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
uvicorn = pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Archive]]:
    with archive(f"sqlite:///{tmp_path_factory.mktemp('web') / 'ingest.db'}") as built:
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app_for(built), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}", built
        finally:
            server.should_exit = True
            thread.join(10)


@pytest.fixture(scope="module")
def page(site: tuple[str, Archive]) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_search_box_finds_and_highlights(site: tuple[str, Archive], page: object) -> None:
    base, arch = site
    p: Any = page
    p.goto(base + "/")
    assert p.locator("#heading").inner_text() == "Recent articles"
    assert p.locator("#results .result").count() == 8
    p.fill("input[name=q]", "running")
    p.press("input[name=q]", "Enter")
    p.wait_for_url("**/?q=running*")
    assert p.locator("#results .result").count() == 1
    assert p.locator("#results mark").first.inner_text().lower() == "running"
    p.click("#results .result h3 a")
    p.wait_for_url(f"**/ui/articles/{arch.ids['running']}")
    assert p.locator("#title").inner_text() == "Marathon runners in Karachi"
    assert "json-ld" in p.locator("#provenance").inner_text()


def test_bad_query_shows_an_error_not_a_crash(site: tuple[str, Archive], page: object) -> None:
    base, _ = site
    p: Any = page
    response = p.goto(base + "/?q=---")
    assert response is not None and response.status == 422
    assert "no words" in p.locator("#error").inner_text()


def test_story_view_shows_outlets_side_by_side(site: tuple[str, Archive], page: object) -> None:
    base, arch = site
    p: Any = page
    p.goto(f"{base}/ui/articles/{arch.ids['bahrain_tribune']}")
    p.click("#story-link")
    columns = p.locator("#columns .column")
    assert columns.count() == 2
    first, second = columns.nth(0), columns.nth(1)
    assert "dawn" in first.locator("h3").inner_text() and "original" in first.inner_text()
    assert "tribune" in second.locator("h3").inner_text()
    assert "interior minister" in second.locator(".para.added").inner_text()
    assert "visa abolition" in second.locator(".para.dropped").inner_text()
    boxes = [columns.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] and boxes[1] and boxes[0]["x"] < boxes[1]["x"]  # side by side
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 5


def test_sources_page_shows_health(site: tuple[str, Archive], page: object) -> None:
    base, _ = site
    p: Any = page
    p.goto(base + "/ui/sources")
    row = p.locator("#sources tr[data-name=dawn]")
    assert "healthy" in row.inner_text() and "stored=2" in row.inner_text()
    assert p.locator("#sources tr[data-name=quiet]").inner_text().count("disabled") == 1
