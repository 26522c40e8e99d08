"""The gallery's routes: every image of the build, filtered and paged, and a person's verdict
on one (applied at once, or queued for the running build)."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from agent.web.security import checked_form
from agent.web.site import PAGE, inside, web
from tools.errors import FacetoryError

if TYPE_CHECKING:
    from agent.runtime.verdicts import VerdictResult

_IMAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,160}$")
_FILTERS = ("status", "class_name", "split", "reason")


async def gallery(request: Request) -> Response:
    build = web(request)
    q = request.query_params
    manifest = build.manifest()
    number = max(1, _int(q.get("page"), 1))
    filters = {k: q.get(k) or None for k in _FILTERS}
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
    return build.page(request, "gallery.html", head=build.head(), records=records, total=total,
                      number=number, pages=max(1, -(-total // PAGE)),
                      filters={**filters, "factor": factor, "level": level},
                      reasons=reasons, verdicts=verdicts,
                      query=urlencode([(k, v) for k, v in q.multi_items()
                                       if k not in ("page", "msg")]),
                      message=build.flash.get(q.get("msg", ""), {}))


async def verdict(request: Request) -> Response:
    from agent.runtime.verdicts import record_verdict

    build = web(request)
    form = await checked_form(request, build.token)
    if isinstance(form, Response):
        return form
    back = form.get("back", "/gallery")
    back = back if back.startswith("/gallery") else "/gallery"
    sep = "&" if "?" in back else "?"
    try:
        result = await asyncio.to_thread(
            record_verdict, build.context(), form.get("image_id", ""),
            form.get("verdict", ""), form.get("reason", ""),
        )
    except FacetoryError as exc:
        key = build.put_flash(error=str(exc))
        return RedirectResponse(f"{back}{sep}msg={key}", status_code=303)
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"applied": result.applied, "state": result.verdict.state})
    key = build.put_flash(done=_verdict_line(result))
    return RedirectResponse(f"{back}{sep}msg={key}", status_code=303)


def _verdict_line(result: VerdictResult) -> str:
    """What became of a verdict, said on the gallery page."""
    v = result.verdict
    if not result.applied:
        return (f"{v.image_id} {v.verdict} ({v.reason}): queued: the running build applies "
                "it at its next batch")
    then = ("quotas recounted; the next run refills its plan item" if v.verdict == "rejected"
            else "quotas recounted")
    return f"{v.image_id} {v.verdict} ({v.reason}): {then}"


async def image(request: Request) -> Response:
    build = web(request)
    image_id = request.path_params["image_id"]
    manifest = build.manifest()
    if manifest is None or not _IMAGE_ID.match(image_id):
        return PlainTextResponse("no such image", status_code=404)
    record = manifest.get([image_id]).get(image_id)
    if record is None:
        return PlainTextResponse("no such image", status_code=404)
    return inside(build.root, build.root / record.path)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


ROUTES = [
    Route("/gallery", gallery),
    Route("/verdict", verdict, methods=["POST"]),
    Route("/image/{image_id}", image),
]
