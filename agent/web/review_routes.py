"""The review page's routes (before approval): plan tables, samples and the estimate; quota
edits, feedback in words and approval, each through the function the CLI calls."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from agent.web import plan_view
from agent.web.estimate import Estimate, estimate
from agent.web.samples import sample_cells
from agent.web.security import checked_form
from agent.web.site import WebBuild, inside, web
from tools.errors import FacetoryError
from tools.generate import capabilities

_KEY = re.compile(r"^[0-9a-f]{20}$")


async def index(request: Request) -> Response:
    target = "/build" if web(request).started() else "/review"
    return RedirectResponse(target, status_code=303)


async def review(request: Request, errors: dict[str, str] | None = None,
                 form: dict[str, str] | None = None, status_code: int = 200,
                 question: list | None = None) -> Response:
    """The review page; the forms below answer with it, showing their errors in place."""
    build = web(request)
    head = build.head()
    cells = sample_cells(head.spec)
    groups: dict[str, list] = {}
    for s in cells:
        groups.setdefault(s.group, []).append(s)
    return build.page(request, "review.html", status_code, head=head, spec=head.spec,
                      tables=plan_view.factor_tables(head), samples=groups,
                      sample_count=len(cells), estimate=_estimate(build, cells),
                      instant=not capabilities(head.spec.generation.backend).needs_gpu,
                      errors=errors or {}, form=form or {},
                      flash=build.flash.get(request.query_params.get("msg", ""), {}),
                      question=question or [])


def _estimate(build: WebBuild, cells: list) -> Estimate:
    """Time and size of the build, from the samples drawn or the images made so far."""
    manifest = build.manifest()
    files = [build.samples.path(s.key) for s in cells]
    if manifest is not None:
        files = [build.root / r.path for r in manifest.page(limit=50)[1]] or files
    return estimate(build.head().spec, manifest=manifest, events=build.context().events.read(),
                    sample_seconds=build.samples.seconds, image_files=files)


def _refuse_if_busy(build: WebBuild) -> str | None:
    if build.locked():
        return "a build is running in this directory: the plan is read-only until it stops"
    if build.started():
        return "this build has started generating: the plan can no longer change"
    return None


def _refuse_if_running(build: WebBuild) -> str | None:
    return "a build is running" if build.locked() else None


async def _posted(
    request: Request, field: str, busy: Callable[[WebBuild], str | None] = _refuse_if_busy,
) -> tuple[WebBuild, dict[str, str]] | Response:
    """The build and the form of a review form's POST, or the answer refusing it: a form
    without the page's token (403), or a plan `busy` says may not change now (409, shown on
    the review page at `field`)."""
    build = web(request)
    form = await checked_form(request, build.token)
    if isinstance(form, Response):
        return form
    refused = busy(build)
    if refused:
        return await review(request, errors={field: refused}, status_code=409)
    return build, form


async def edit(request: Request) -> Response:
    posted = await _posted(request, "form")
    if isinstance(posted, Response):
        return posted
    build, form = posted
    try:
        result = await asyncio.to_thread(plan_view.apply_edit, build.root, form)
    except plan_view.EditErrors as exc:
        return await review(request, errors=exc.errors, form=form, status_code=422)
    except FacetoryError as exc:
        return await review(request, errors={"form": str(exc)}, form=form, status_code=422)
    changes = (result.changes or ["nothing"]) if result.changed else ["nothing: no field moved"]
    key = build.put_flash(title="Your edit changed", lines=changes, warnings=result.warnings)
    return RedirectResponse(f"/review?msg={key}", status_code=303)


async def feedback(request: Request) -> Response:
    from agent.web.questions import answered, asked

    posted = await _posted(request, "feedback")
    if isinstance(posted, Response):
        return posted
    build, form = posted
    try:
        text = answered(form)
        changes = await asyncio.to_thread(plan_view.feedback, build.root, text)
    except FacetoryError as exc:
        return await review(request, errors={"feedback": str(exc)}, form=form,
                            status_code=422, question=asked(exc))
    key = build.put_flash(title=f"Your feedback “{text.strip()}” changed", lines=changes)
    return RedirectResponse(f"/review?msg={key}", status_code=303)


async def approve(request: Request) -> Response:
    posted = await _posted(request, "approve", _refuse_if_running)
    if isinstance(posted, Response):
        return posted
    build, _ = posted
    try:
        items = await asyncio.to_thread(plan_view.approve, build.root)
    except FacetoryError as exc:
        return await review(request, errors={"approve": str(exc)}, status_code=422)
    key = build.put_flash(title="Approved", lines=[f"{items:,} items approved"])
    return RedirectResponse(f"/review?msg={key}", status_code=303)


async def sample(request: Request) -> Response:
    """One sample image of the review page, drawn on first request."""
    build = web(request)
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
    return inside(build.root, path)


ROUTES = [
    Route("/", index),
    Route("/review", review),
    Route("/review/edit", edit, methods=["POST"]),
    Route("/review/feedback", feedback, methods=["POST"]),
    Route("/review/approve", approve, methods=["POST"]),
    Route("/samples/{key}.png", sample),
]
