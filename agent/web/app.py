"""The review app: routes, each a thin layer over the same functions the CLI calls.

Review (before approval): plan tables, requirement trace, samples, estimate, quota edits,
feedback in words, approve. Build (during and after): live progress over server-sent events,
the gallery with human verdicts, the report. While another process holds the build lock the
app only reads, except for verdicts, which queue in the manifest for the running build.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from agent.runtime.context import BuildContext
from agent.runtime.lock import BuildLock, BuildLocked, is_locked
from agent.web import plan_view
from agent.web.estimate import estimate
from agent.web.progress_view import progress
from agent.web.samples import SampleRenderer, sample_cells
from agent.web.security import Guard, checked_form
from agent.wording import plural, within
from tools.build_dir import BuildPaths
from tools.errors import FacetoryError
from tools.stores.manifest import Manifest

HERE = Path(__file__).parent
PAGE = 60
RUN_LOG = "web_run.log"
"""What a build started from the page printed (the terminal's output, for the curious)."""
_KEY = re.compile(r"^[0-9a-f]{20}$")
_IMAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,160}$")


class WebBuild:
    """One build directory as the app sees it; caches what is cheap to keep."""

    def __init__(self, root: Path, token: str) -> None:
        self.paths = BuildPaths(root)
        self.root = root
        self.token = token
        self.samples = SampleRenderer(root)
        self.flash: dict[str, dict[str, Any]] = {}
        self._head: tuple[tuple[int, int], plan_view.PlanHead] | None = None
        self._manifest: Manifest | None = None

    def head(self) -> plan_view.PlanHead:
        st = self.paths.plan_yaml.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        if self._head is None or self._head[0] != stamp:
            self._head = (stamp, plan_view.read_head(self.paths.plan_yaml))
        return self._head[1]

    def manifest(self) -> Manifest | None:
        """The manifest once a build has started (never created here)."""
        if self._manifest is None and self.paths.manifest_db.exists():
            self._manifest = Manifest(self.paths.manifest_db)
        return self._manifest

    def locked(self) -> bool:
        return is_locked(self.root)

    def context(self) -> BuildContext:
        return BuildContext(paths=self.paths)

    def put_flash(self, **data: Any) -> str:
        key = secrets.token_hex(6)
        self.flash = {key: data}  # only the latest message is kept
        return key


def create_app(build_dir: Path, *, token: str, loopback: bool = True) -> Any:
    """The ASGI app for one build directory, wrapped in its guard (`security.Guard`): served
    on loopback it checks the Host header; elsewhere every request needs `token`."""
    build = WebBuild(Path(build_dir), token)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(token=token)
    templates.env.filters["pct"] = lambda v: f"{v * 100:.3g}%"
    templates.env.filters["num"] = lambda v: f"{v:,}"
    templates.env.filters["duration"] = _duration
    templates.env.filters["plural"] = plural
    templates.env.filters["within"] = within

    def page(request: Request, name: str, status_code: int = 200, **ctx: Any) -> Response:
        manifest = build.manifest()
        common = {"build_name": build.root.name, "build_path": shlex.quote(str(build.root)),
                  "locked": build.locked(),
                  "approved": _approved(build),
                  "started": manifest is not None and manifest.attempts() > 0}
        return templates.TemplateResponse(request, name, {**common, **ctx},
                                          status_code=status_code)

    async def index(request: Request) -> Response:
        manifest = build.manifest()
        target = "/build" if manifest is not None and manifest.attempts() else "/review"
        return RedirectResponse(target, status_code=303)

    async def review(request: Request, errors: dict[str, str] | None = None,
                     form: dict[str, str] | None = None, status_code: int = 200,
                     question: list | None = None) -> Response:
        head = build.head()
        cells = sample_cells(head.spec)
        manifest = build.manifest()
        files = [build.samples.path(s.key) for s in cells]
        if manifest is not None:
            files = [build.root / r.path for r in manifest.page(limit=50)[1]] or files
        est = estimate(head.spec, manifest=manifest, events=build.context().events.read(),
                       sample_seconds=build.samples.seconds, image_files=files)
        flash = build.flash.get(request.query_params.get("msg", ""), {})
        groups: dict[str, list] = {}
        for s in cells:
            groups.setdefault(s.group, []).append(s)
        return page(request, "review.html", status_code, head=head, spec=head.spec,
                    tables=plan_view.factor_tables(head), samples=groups,
                    sample_count=len(cells), estimate=est,
                    instant=head.spec.generation.backend == "procedural", errors=errors or {},
                    form=form or {}, flash=flash, question=question or [])

    def refuse_if_busy() -> str | None:
        if build.locked():
            return "a build is running in this directory: the plan is read-only until it stops"
        manifest = build.manifest()
        if manifest is not None and manifest.attempts():
            return "this build has started generating: the plan can no longer change"
        return None

    async def edit(request: Request) -> Response:
        form = await checked_form(request, token)
        if isinstance(form, Response):
            return form
        busy = refuse_if_busy()
        if busy:
            return await review(request, errors={"form": busy}, status_code=409)
        try:
            result = await asyncio.to_thread(plan_view.apply_edit, build.root, form)
        except plan_view.EditErrors as exc:
            return await review(request, errors=exc.errors, form=form, status_code=422)
        except FacetoryError as exc:
            return await review(request, errors={"form": str(exc)}, form=form, status_code=422)
        changes = (result.changes or ["nothing"]) if result.changed else ["nothing: no field moved"]
        key = build.put_flash(title="Your edit changed", lines=changes,
                              warnings=result.warnings)
        return RedirectResponse(f"/review?msg={key}", status_code=303)

    async def feedback(request: Request) -> Response:
        from agent.planning.feedback import apply_feedback
        from agent.web.questions import answered, open_question

        form = await checked_form(request, token)
        if isinstance(form, Response):
            return form
        busy = refuse_if_busy()
        if busy:
            return await review(request, errors={"feedback": busy}, status_code=409)
        try:
            text = answered(form)
            changes = await asyncio.to_thread(apply_feedback, build.root, text, offline=None)
        except FacetoryError as exc:
            asked = await asyncio.to_thread(open_question, build.root, form.get("feedback", ""))
            return await review(request, errors={"feedback": str(exc)}, form=form,
                                status_code=422, question=asked)
        key = build.put_flash(title=f"Your feedback “{text.strip()}” changed", lines=changes)
        return RedirectResponse(f"/review?msg={key}", status_code=303)

    async def approve(request: Request) -> Response:
        from agent.planning.approval import approve as approve_plan

        form = await checked_form(request, token)
        if isinstance(form, Response):
            return form
        if build.locked():
            return await review(request, errors={"approve": "a build is running"},
                                status_code=409)
        try:
            with BuildLock(build.root):
                record = await asyncio.to_thread(approve_plan, build.root)
        except FacetoryError as exc:
            return await review(request, errors={"approve": str(exc)}, status_code=422)
        key = build.put_flash(title="Approved", lines=[f"{record['items']:,} items approved"])
        return RedirectResponse(f"/review?msg={key}", status_code=303)

    async def start(request: Request) -> Response:
        form = await checked_form(request, token)
        if isinstance(form, Response):
            return form
        if build.locked():
            return PlainTextResponse("a build is already running", status_code=409)
        if not _approved(build):
            return PlainTextResponse("approve the plan first", status_code=409)
        args = [sys.executable, "-m", "agent", "run", str(build.root)]
        if form.get("train") != "on":
            args.append("--no-train")
        log = (build.root / RUN_LOG).open("ab")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends
        for _ in range(100):  # show the build page once the run holds the lock
            if build.locked():
                break
            await asyncio.sleep(0.05)
        return RedirectResponse("/build", status_code=303)

    async def build_page(request: Request) -> Response:
        head = build.head()
        manifest = build.manifest()
        state = progress(head, manifest, running=build.locked())
        reasons = manifest.reason_counts().most_common(12) if manifest is not None else []
        return page(request, "build.html", head=head, progress=state, reasons=reasons,
                    report=build.paths.report.exists(), log=(build.root / RUN_LOG).exists())

    async def events(request: Request) -> Response:
        async def stream():
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

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def gallery(request: Request) -> Response:
        head = build.head()
        q = request.query_params
        manifest = build.manifest()
        number = max(1, _int(q.get("page"), 1))
        filters = {k: q.get(k) or None for k in ("status", "class_name", "split", "reason")}
        factor, level = q.get("factor"), q.get("level")
        if q.get("cell") and "=" in q["cell"]:
            factor, level = q["cell"].split("=", 1)
        cell = (factor, level) if factor and level else None
        total, records = (0, [])
        if manifest is not None:
            total, records = manifest.page(**filters, cell=cell, limit=PAGE,
                                           offset=(number - 1) * PAGE)
        verdicts = {v.image_id: v for v in manifest.human_verdicts()} if manifest else {}
        reasons = sorted(manifest.reason_counts().items()) if manifest else []
        pages = max(1, -(-total // PAGE))
        return page(request, "gallery.html", head=head, records=records, total=total,
                    number=number, pages=pages,
                    filters={**filters, "factor": factor, "level": level},
                    reasons=reasons, verdicts=verdicts,
                    query=urlencode([(k, v) for k, v in q.multi_items()
                                     if k not in ("page", "msg")]),
                    message=build.flash.get(q.get("msg", ""), {}))

    async def verdict(request: Request) -> Response:
        from agent.runtime.verdicts import record_verdict

        form = await checked_form(request, token)
        if isinstance(form, Response):
            return form
        back = form.get("back", "/gallery")
        back = back if back.startswith("/gallery") else "/gallery"
        try:
            result = await asyncio.to_thread(
                record_verdict, build.context(), form.get("image_id", ""),
                form.get("verdict", ""), form.get("reason", ""),
            )
        except FacetoryError as exc:
            key = build.put_flash(error=str(exc))
            sep = "&" if "?" in back else "?"
            return RedirectResponse(f"{back}{sep}msg={key}", status_code=303)
        if request.headers.get("accept", "").startswith("application/json"):
            return JSONResponse({"applied": result.applied, "state": result.verdict.state})
        v = result.verdict
        done = f"{v.image_id} {v.verdict} ({v.reason}): " + (
            ("quotas recounted; the next run refills its plan item" if v.verdict == "rejected"
             else "quotas recounted") if result.applied
            else "queued: the running build applies it at its next batch")
        key = build.put_flash(done=done)
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}msg={key}", status_code=303)

    async def image(request: Request) -> Response:
        image_id = request.path_params["image_id"]
        manifest = build.manifest()
        if manifest is None or not _IMAGE_ID.match(image_id):
            return PlainTextResponse("no such image", status_code=404)
        record = manifest.get([image_id]).get(image_id)
        if record is None:
            return PlainTextResponse("no such image", status_code=404)
        return _inside(build.root, build.root / record.path)

    async def sample(request: Request) -> Response:
        key = request.path_params["key"]
        if not _KEY.match(key):
            return PlainTextResponse("no such sample", status_code=404)
        head = build.head()
        found = next((s for s in sample_cells(head.spec) if s.key == key), None)
        if found is None:
            return PlainTextResponse("no such sample", status_code=404)
        try:
            path = await asyncio.to_thread(build.samples.render, head.spec, found)
        except FacetoryError as exc:
            return PlainTextResponse(f"cannot draw this sample: {exc}", status_code=503)
        return _inside(build.root, path)

    async def report(request: Request) -> Response:
        if not build.paths.report.exists():
            return page(request, "note.html", 404, heading="No report yet",
                        text="The report is written when the build ends (complete, or out of "
                             "budget); `facetory report DIR` writes it at any time.")
        return _inside(build.root, build.paths.report, media_type="text/html", cache=False)

    async def run_log(request: Request) -> Response:
        path = _contained(build.root, build.root / RUN_LOG)
        if path is None:
            return PlainTextResponse("no build was started from this page", status_code=404)
        text = path.read_bytes()[-200_000:].decode("utf-8", errors="replace")
        return PlainTextResponse(text)

    async def status_json(request: Request) -> Response:
        return JSONResponse(progress(build.head(), build.manifest(), running=build.locked()))

    routes = [
        Route("/", index),
        Route("/review", review),
        Route("/review/edit", edit, methods=["POST"]),
        Route("/review/feedback", feedback, methods=["POST"]),
        Route("/review/approve", approve, methods=["POST"]),
        Route("/build", build_page),
        Route("/build/start", start, methods=["POST"]),
        Route("/events", events),
        Route("/status.json", status_json),
        Route("/gallery", gallery),
        Route("/verdict", verdict, methods=["POST"]),
        Route("/image/{image_id}", image),
        Route("/samples/{key}.png", sample),
        Route("/report", report),
        Route("/run.log", run_log),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    async def facetory_error(request: Request, exc: Exception) -> Response:
        """A plan.yaml that cannot be read (a bad hand edit) is a page that says so."""
        return page(request, "problem.html", status_code=422, problem=str(exc))

    app = Starlette(routes=routes, exception_handlers={FacetoryError: facetory_error})
    return Guard(app, token=token, loopback=loopback)


def _approved(build: WebBuild) -> bool:
    from agent.planning.approval import is_approved

    return is_approved(build.root)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


def _contained(root: Path, path: Path) -> Path | None:
    """The file `path` resolves to when that is inside the build directory, else None: every
    file route goes through this one check (no traversal, no symlink out of the build)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        return None
    return resolved


def _inside(root: Path, path: Path, *, media_type: str | None = None,
            cache: bool = True) -> Response:
    """A file response only when the file resolves inside the build directory."""
    resolved = _contained(root, path)
    if resolved is None:
        return PlainTextResponse("no such file", status_code=404)
    headers = {"Cache-Control": "private, max-age=3600" if cache else "no-store"}
    return FileResponse(resolved, media_type=media_type, headers=headers)


__all__ = ["BuildLocked", "create_app"]
