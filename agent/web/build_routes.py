"""The build page's routes (during and after a build): start it, its progress live over
server-sent events and as JSON, what the run printed, and the report."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from agent.web.progress_view import progress
from agent.web.security import checked_form
from agent.web.site import RUN_LOG, WebBuild, contained, inside, web


async def start(request: Request) -> Response:
    """`facetory run DIR` in its own session, its output to RUN_LOG; the build page once the
    run holds the lock."""
    build = web(request)
    form = await checked_form(request, build.token)
    if isinstance(form, Response):
        return form
    if build.locked():
        return PlainTextResponse("a build is already running", status_code=409)
    if not build.approved():
        return PlainTextResponse("approve the plan first", status_code=409)
    args = [sys.executable, "-m", "agent", "run", str(build.root)]
    if form.get("train") != "on":
        args.append("--no-train")
    log = (build.root / RUN_LOG).open("ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    build.run = proc
    log.close()
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends
    for _ in range(100):
        if build.locked():
            break
        await asyncio.sleep(0.05)
    return RedirectResponse("/build", status_code=303)


async def build_page(request: Request) -> Response:
    build = web(request)
    head = build.head()
    manifest = build.manifest()
    state = progress(head, manifest, running=build.locked())
    reasons = manifest.reason_counts().most_common(12) if manifest is not None else []
    return build.page(request, "build.html", head=head, progress=state, reasons=reasons,
                      report=build.paths.report.exists(), log=(build.root / RUN_LOG).exists())


async def events(request: Request) -> Response:
    return StreamingResponse(_progress_events(request, web(request)),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})


async def _progress_events(request: Request, build: WebBuild) -> AsyncIterator[str]:
    """The progress as an event whenever it changes, a comment every half second otherwise
    (so a closed page is noticed)."""
    last, seen = None, None
    while True:
        manifest = build.manifest()
        running = build.locked()
        stamp = (manifest.changes() if manifest else None, running,
                 build.paths.plan_yaml.stat().st_mtime_ns)
        text = last
        if stamp != seen:  # recount only when something committed (SQL aggregates)
            seen = stamp
            text = json.dumps(progress(build.head(), manifest, running=running))
        if text != last:
            last = text
            yield f"event: progress\ndata: {text}\n\n"
        else:
            yield ": still here\n\n"
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.5)


async def status_json(request: Request) -> Response:
    build = web(request)
    return JSONResponse(progress(build.head(), build.manifest(), running=build.locked()))


async def report(request: Request) -> Response:
    build = web(request)
    if not build.paths.report.exists():
        return build.page(request, "note.html", 404, heading="No report yet",
                          text="The report is written when the build ends (complete, or out "
                               "of budget); `facetory report DIR` writes it at any time.")
    return inside(build.root, build.paths.report, media_type="text/html", cache=False)


async def run_log(request: Request) -> Response:
    build = web(request)
    path = contained(build.root, build.root / RUN_LOG)
    if path is None:
        return PlainTextResponse("no build was started from this page", status_code=404)
    text = path.read_bytes()[-200_000:].decode("utf-8", errors="replace")
    return PlainTextResponse(text)


ROUTES = [
    Route("/build", build_page),
    Route("/build/start", start, methods=["POST"]),
    Route("/events", events),
    Route("/status.json", status_json),
    Route("/report", report),
    Route("/run.log", run_log),
]
