"""Who may reach the review app and what they may change: token, Host, origin, traversal."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from agent.planning.approval import is_approved
from agent.web.app import create_app
from tests.agent.web.builds import planned

TOKEN = "s3cret-token"


def local(root: Path, host: str = "127.0.0.1:8000") -> TestClient:
    return TestClient(create_app(root, token=TOKEN), base_url=f"http://{host}")


def test_bound_elsewhere_every_request_needs_the_token_once_then_a_cookie(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    c = TestClient(create_app(root, token=TOKEN, loopback=False),
                   base_url="http://192.168.1.20:8000")
    assert c.get("/review").status_code == 401
    assert c.get("/static/style.css").status_code == 401
    assert c.get("/review?token=wrong").status_code == 401
    entry = c.get("/review?token=" + TOKEN, follow_redirects=False)
    assert entry.status_code == 303 and entry.headers["location"] == "/review"
    assert "httponly" in entry.headers["set-cookie"].lower()
    assert c.get("/review").status_code == 200  # the cookie carries it now


def test_on_loopback_a_page_reached_through_another_host_name_is_refused(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    assert local(root, "attacker.example:8000").get("/review").status_code == 403
    assert local(root, "localhost:8000").get("/review").status_code == 200


def test_a_change_needs_the_token_or_the_same_origin(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    c = local(root)
    assert c.post("/review/approve", data={}).status_code == 403
    foreign = {"origin": "http://attacker.example"}
    assert c.post("/review/approve", data={}, headers=foreign).status_code == 403
    assert c.post("/review/approve", data={"token": "nope"}).status_code == 403
    plan = (root / "plan.yaml").read_bytes()
    for path, form in [("/review/edit", {"quota:none": "8"}),
                       ("/review/feedback", {"feedback": "more glasses"})]:
        assert c.post(path, data=form, headers=foreign).status_code == 403
    assert not is_approved(root) and (root / "plan.yaml").read_bytes() == plan
    same = {"origin": "http://127.0.0.1:8000"}
    assert c.post("/review/approve", data={}, headers=same, follow_redirects=False
                  ).status_code == 303
    assert is_approved(root)


def test_files_are_served_only_from_the_build_directory(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    (tmp_path / "secret.txt").write_text("not yours")
    c = local(root)
    for url in ("/image/..%2F..%2Fsecret.txt", "/image/../secret.txt",
                "/samples/..%2Fsecret.txt.png", "/samples/0123456789abcdef0123.png",
                "/static/..%2F..%2F..%2Fplan.yaml", "/static/../app.py"):
        response = c.get(url)
        assert response.status_code == 404, url
        assert "not yours" not in response.text and "facetory plan" not in response.text


def test_an_image_row_pointing_outside_the_build_is_not_served(tmp_path: Path) -> None:
    from tools.contracts import ManifestRecord, Status
    from tools.stores.manifest import Manifest

    root = planned(tmp_path / "b")
    (tmp_path / "secret.png").write_bytes(b"\x89PNG not yours")
    manifest = Manifest(root / "manifest.sqlite")
    manifest.upsert([ManifestRecord(image_id="x-a0", item_id="x", class_name="none",
                                    status=Status.accepted, path="../secret.png")], round_=0)
    assert local(root).get("/image/x-a0").status_code == 404


def test_words_a_person_typed_are_shown_as_text_never_as_markup(tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    c = local(root)
    same = {"origin": "http://127.0.0.1:8000"}
    c.post("/review/edit", data={"description:none": "<script>alert(1)</script> plain faces"},
           headers=same)
    page = c.get("/review").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; plain faces" in page
    assert "<script>alert(1)" not in page


def test_the_report_and_the_run_log_are_not_served_through_a_symlink_out_of_the_build(
        tmp_path: Path) -> None:
    root = planned(tmp_path / "b")
    (tmp_path / "secret.txt").write_text("not yours")
    (root / "report.html").symlink_to(tmp_path / "secret.txt")
    (root / "web_run.log").symlink_to(tmp_path / "secret.txt")
    c = local(root)
    for url in ("/report", "/run.log"):
        response = c.get(url)
        assert response.status_code == 404, url
        assert "not yours" not in response.text


def posted(app, headers: list[tuple[bytes, bytes]], chunk: bytes, total: int) -> dict:
    """POST `total` bytes to the app in `chunk`s; the status and how many bytes it took."""
    import asyncio

    seen: dict = {"bytes": 0, "status": None}

    async def receive() -> dict:
        seen["bytes"] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": seen["bytes"] < total}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]

    scope = {"type": "http", "method": "POST", "path": "/review/approve",
             "raw_path": b"/review/approve", "query_string": b"", "headers": headers,
             "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 1),
             "root_path": "", "http_version": "1.1"}
    asyncio.run(app(scope, receive, send))
    return seen


def test_a_huge_post_is_refused_while_it_is_read_not_after(tmp_path: Path) -> None:
    """The body is counted as it arrives: a 4 MB POST is refused after the first chunks,
    with or without a Content-Length that announces it."""
    from agent.web.security import MAX_FORM

    app = create_app(planned(tmp_path / "b"), token=TOKEN)
    chunk, total = b"x" * 65536, 4 << 20
    host = (b"host", b"127.0.0.1:8000")
    for headers in ([host], [host, (b"content-length", str(total).encode())]):
        seen = posted(app, headers, chunk, total)
        assert seen["status"] == 413
        assert seen["bytes"] <= MAX_FORM + len(chunk)
