"""The review app in a real browser (Playwright driving Debian's chromium): review the plan,
edit a quota, approve, start a small build and watch progress move, then reject an image in the
gallery and see its quota reopen. Screenshots land in the test's tmp_path.

Skipped, with the reason, only when chromium is absent (.ci/run installs it).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt install chromium)"),
    pytest.mark.slow,
]
#: Milliseconds any one browser step may take before it counts as a hang: Playwright's own
#: default (30 s) is shorter than a step, a whole build included, can take on a busy machine.
HANG_MS = 600_000


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    import uvicorn

    from agent.web.app import create_app
    from agent.web.server import bind
    from tests.agent.web.builds import planned

    root = planned(tmp_path / "build", trace=True)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(root, token="browser-test")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", root
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"],
                                    timeout=HANG_MS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.set_default_timeout(HANG_MS)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("requestfailed", lambda req: req.url.endswith("/events")  # left: stream ends
               or errors.append(f"failed: {req.url}"))
        yield tab
        browser.close()
        assert errors == []


def all_images_loaded(page) -> None:
    page.evaluate("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function(
        "[...document.querySelectorAll('img[src]')].every(i => i.complete && i.naturalWidth > 0)")


def says_counts_as_words(text: str) -> None:
    """Counts in plain English (agent/wording.py): no '1 classes', '(s)' or 'within 0.0'."""
    assert "in 2 classes" in text and "(s)" not in text and "within 0.0" not in text


def test_review_edit_approve_build_and_curate(served, page, tmp_path: Path) -> None:
    url, root = served
    page.goto(url + "/")
    assert page.url.endswith("/review")
    assert page.locator("#classes tr").count() == 3  # header + two classes
    assert page.locator("#factor-gender tr").count() == 3
    assert "nothing verifies this" in page.inner_text("#requirements")
    says_counts_as_words(page.inner_text("body"))
    all_images_loaded(page)
    assert page.locator(".samples img").count() == 6
    page.screenshot(path=tmp_path / "1-review.png", full_page=True)

    page.fill('input[name="quota:none"]', "8")
    page.click("#apply")
    assert "class none: 6 -> 8 images" in page.inner_text("#flash")
    page.fill('input[name="quota:none"]', "-3")
    page.click("#apply")
    assert page.locator('[data-field="quota:none"]').is_visible()
    page.goto(url + "/review")
    page.click("#approve")
    assert page.inner_text("#pill-approved") == "approved"
    page.screenshot(path=tmp_path / "2-approved.png", full_page=True)

    page.click("#start")
    assert page.url.endswith("/build")
    assert not page.locator("#start-form").is_visible()  # not offered twice while it starts
    page.wait_for_function("document.body.dataset.progress !== undefined")
    first = page.evaluate("document.body.dataset.progress")
    page.wait_for_function("document.body.dataset.progress === '14/14'")
    assert first != "14/14"  # it moved while we watched
    page.wait_for_function("document.getElementById('state').textContent === 'complete'")
    assert not page.locator("#start-form").is_visible()  # nothing left to start
    page.screenshot(path=tmp_path / "3-built.png", full_page=True)

    page.goto(url + "/gallery?status=accepted&class_name=none")
    all_images_loaded(page)
    card = page.locator(".tile").first
    assert "eyewear" in card.locator(".attrs").inner_text()  # the planned attributes
    card.locator("a.enlarge").click()
    assert page.locator("#lightbox").is_visible()
    assert page.locator("#lightbox-image").bounding_box()["width"] > 300  # larger than a card
    page.screenshot(path=tmp_path / "4a-enlarged.png")
    page.keyboard.press("Escape")
    assert not page.locator("#lightbox").is_visible()
    tile = page.locator(".tile").first
    tile.locator('input[name="reason"]').fill("teeth look wrong")
    tile.locator("button").click()
    assert "quotas recounted; the next run refills" in page.inner_text("#verdict-done")
    assert page.locator(".tile").count() == 7  # the accepted filter no longer lists it
    page.screenshot(path=tmp_path / "4-gallery.png", full_page=True)
    page.goto(url + "/build")
    assert page.inner_text('tr[data-class="none"] .acc') == "7 / 8"
    assert page.locator(".cell.short").count() >= 1
    page.screenshot(path=tmp_path / "5-reopened.png", full_page=True)
