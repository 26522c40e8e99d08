"""The report in a real headless Chromium: it loads with no console errors, fetches nothing
from the network, every thumbnail decodes, and a screenshot is taken.

Chromium is driven over the DevTools protocol (the `websockets` package), so console messages,
uncaught exceptions and every network request are seen directly rather than scraped from logs.
Skipped, with the reason, when `chromium` is not on PATH (CI installs Debian's `chromium`).
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.tools.synthetic_records import CLASSES, SKIN, make_records
from tools.outputs.contracts import IdentityScores, ReportInputs
from tools.outputs.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH (Debian: apt-get install -y chromium)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,2000",
]
#: Seconds a wait on Chromium may take before it counts as a hang: a busy machine is slow.
HANG = 600


class Page:
    """One Chromium tab over the DevTools protocol; records console errors and requests."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.loaded = False
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.call(method)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append(
                "console: " + " ".join(str(a.get("value", a.get("description"))) for a in
                                       params.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append("uncaught: " + str(details.get("exception", {}).get(
                "description", details.get("text"))))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Page.loadEventFired":
            self.loaded = True

    def call(self, method: str, **params) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=HANG))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def open(self, url: str, settle: float = 0.5) -> None:
        self.errors, self.requests, self.loaded = [], [], False
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + HANG
        while not self.loaded and time.monotonic() < deadline:
            self._event(json.loads(self.ws.recv(timeout=HANG)))
        assert self.loaded, f"{url} did not finish loading"
        end = time.monotonic() + settle  # late console messages
        while time.monotonic() < end:
            try:
                self._event(json.loads(self.ws.recv(timeout=max(0.01, end - time.monotonic()))))
            except TimeoutError:
                break

    def evaluate(self, expression: str, wait: bool = False):
        """The expression's value; with `wait`, the value its promise settles to."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=wait)
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict = {"format": "png"}
        if full_page:
            height = self.evaluate("document.documentElement.scrollHeight")
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1})
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))
        return path


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + HANG
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None, "chromium exited at start"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=HANG) as r:
            targets = json.load(r)
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(ws_url, max_size=64 * 1024 * 1024, open_timeout=HANG) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("build")
    records = make_records(root, per_class=10, size=96, multi_face_every=4)
    cells = {c: {"skin_tone": {s: 4 for s in SKIN}, "gender": {"female": 6, "male": 6}}
             for c in CLASSES}
    training = {
        "task": "detect", "split": "test", "model": "yolo11n.yaml", "device": "cpu",
        "epochs": 3, "imgsz": 96, "images": {"train": 24, "val": 3, "test": 3},
        "overall": {"images": 3, "instances": 4, "precision": 0.8, "recall": 0.75,
                    "mAP50": 0.82, "mAP50-95": 0.5},
        "face_detection": {"precision": 0.99, "recall": 1.0, "mAP50": 0.995, "mAP50-95": 0.85},
        "per_class": {c: {"images": 1, "instances": 1, "precision": 0.8, "recall": 0.7,
                          "mAP50": 0.8, "mAP50-95": 0.5} for c in CLASSES},
        "curves": {"train/box_loss": [3.0, 2.2, 1.8], "val/box_loss": [3.1, None, 2.0],
                   "metrics/mAP50(B)": [0.1, 0.5, 0.8]},
    }
    inputs = ReportInputs(
        title="browser check", spec_text="30 faces in three classes", task="detect",
        class_targets={c: 12 for c in CLASSES}, cell_targets=cells, records=records,
        training=training,
        identity=IdentityScores(mated=[0.8, 0.85, 0.7, 0.9], non_mated=[0.2, 0.3, 0.5, 0.1],
                                threshold=0.6),
        events=[{"t": 100.0 + i, "event": "batch", "n": i} for i in range(5)],
        timing={"generate": 3.0, "critique": 9.5, "train": 40.0},
        generator="procedural", base_dir=root,
    )
    return write_report(inputs, root / "report.html")


def test_report_loads_cleanly_in_chromium(page, report, tmp_path):
    page.open(report.as_uri())

    assert page.errors == []
    external = [u for u in page.requests if not u.startswith(("file:", "data:"))]
    assert external == [], f"the report fetched from the network: {external}"
    assert page.evaluate("document.title").startswith("browser check")
    broken = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).length"
    )
    assert broken == 0
    assert page.evaluate("document.images.length") >= 30
    assert page.evaluate("document.querySelectorAll('svg.chart').length") >= 5
    # nothing wider than the window: no sideways scrolling on a laptop screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    shot = page.screenshot(tmp_path / "report.png")
    assert shot.stat().st_size > 20_000
    page.screenshot(tmp_path / "report-full.png", full_page=True)


def test_the_browser_check_sees_console_errors(page, tmp_path):
    """The harness must be able to fail: a page that logs an error and throws is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><title>bad</title>"
                   "<script>console.error('boom'); null.x;</script>")
    page.open(bad.as_uri())
    assert any("boom" in e for e in page.errors)
    assert any(e.startswith("uncaught") for e in page.errors)


def thumbnails_decode(page: Page) -> bool:
    """Whether every thumbnail the pager shows decodes, once those still loading have loaded
    (a page's images load after it is drawn: later on a busy machine, never at once)."""
    return page.evaluate(
        "Promise.all([...document.querySelectorAll('#pager-thumbs img')].map(i => i.decode()"
        ".then(() => i.naturalWidth > 0, () => false))).then(ok => ok.every(Boolean))", wait=True)


def test_the_thumbnail_check_sees_an_image_that_does_not_decode(page, tmp_path):
    """The wait for thumbnails must be able to fail: a missing file does not decode."""
    shown = tmp_path / "thumbs.html"
    shown.write_text('<!DOCTYPE html><title>thumbs</title><div id="pager-thumbs"></div><script>'
                     "var i = document.createElement('img'); i.src = 'missing.png';"
                     "document.getElementById('pager-thumbs').appendChild(i);</script>")
    page.open(shown.as_uri())
    assert not thumbnails_decode(page)


def test_the_gallery_pages_through_every_image_from_beside_the_report(page, report):
    page.open(report.as_uri())
    total = page.evaluate("JSON.parse(document.getElementById('every-image').textContent).length")
    assert total == 42  # 3 classes x (10 accepted, 3 rejected, 1 duplicate)
    page.evaluate("document.getElementById('pager-class').value = 'Asian';"
                  "document.getElementById('pager-class').onchange()")
    assert page.evaluate("document.querySelectorAll('#pager-thumbs img').length") == 14
    page.evaluate("document.getElementById('pager-class').value = '';"
                  "document.getElementById('pager-class').onchange()")
    seen = set()
    for _ in range(-(-total // 24)):  # 24 a page
        seen |= set(page.evaluate(
            "[...document.querySelectorAll('#pager-thumbs img')].map(i => i.alt)"))
        assert thumbnails_decode(page)
        page.evaluate("document.getElementById('pager-next').click()")
    assert len(seen) == total
    page.evaluate("const s = document.getElementById('pager-status');"
                  "s.value = 'rejected'; s.onchange()")
    shown = page.evaluate("[...document.querySelectorAll('#pager-thumbs img')].map(i => i.alt)")
    assert shown and all("(rejected)" in alt for alt in shown)
