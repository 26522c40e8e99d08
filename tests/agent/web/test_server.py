"""`facetory review DIR --web` and `facetory serve DIR` as a user starts them."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.web.server import bind
from tests.agent.web.builds import facetory, planned


@contextmanager
def started(*args: str) -> Iterator[str]:
    """Run the command until it prints its URL; yields that line."""
    proc = subprocess.Popen([sys.executable, "-m", "agent", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        yield line
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_review_web_listens_on_loopback_at_a_free_port_and_prints_the_url(
        tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    with started("review", str(root), "--web", "--no-browser") as line:
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "review", timeout=30) as response:
            assert response.status == 200 and b"Approve this plan" in response.read()


def test_serve_bound_beyond_loopback_prints_a_token_and_refuses_requests_without_it(
        tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    with started("serve", str(root), "--host", "0.0.0.0", "--no-browser") as line:
        port, token = re.search(r":(\d+)/\?token=(\S+)", line).groups()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/review", timeout=30)
            raise AssertionError("served without the token")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        browser = urllib.request.build_opener(  # keeps the cookie the token is traded for
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        url = f"http://127.0.0.1:{port}/review?token={token}"
        with browser.open(url, timeout=30) as response:
            assert response.status == 200 and response.url.endswith("/review")


def test_serve_on_a_directory_without_a_plan_or_a_taken_port_is_one_clear_line(
        tmp_path: Path) -> None:
    missing = facetory("serve", str(tmp_path / "nowhere"), "--no-browser")
    assert missing.returncode == 2 and "no plan.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr
    root = planned(tmp_path / "b")
    taken = bind("127.0.0.1", 0)
    try:
        port = str(taken.getsockname()[1])
        busy = facetory("serve", str(root), "--no-browser", "--port", port)
    finally:
        taken.close()
    assert busy.returncode == 2 and "cannot listen" in busy.stderr
    assert "Traceback" not in busy.stderr
