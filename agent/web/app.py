"""The review app: routes, each a thin layer over the same functions the CLI calls.

Review (before approval, `review_routes`): plan tables, requirement trace, samples, estimate,
quota edits, feedback in words, approve. Build (during and after, `build_routes`): live
progress over server-sent events, the report. The gallery with human verdicts
(`gallery_routes`). While another process holds the build lock the app only reads, except for
verdicts, which queue in the manifest for the running build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from agent.runtime.lock import BuildLocked
from agent.web import build_routes, gallery_routes, review_routes
from agent.web.security import Guard
from agent.web.site import HERE, PAGE, WebBuild, web
from tools.errors import FacetoryError


def create_app(build_dir: Path, *, token: str, loopback: bool = True) -> Any:
    """The ASGI app for one build directory, wrapped in its guard (`security.Guard`): served
    on loopback it checks the Host header; elsewhere every request needs `token`."""
    routes = [
        *review_routes.ROUTES,
        *build_routes.ROUTES,
        *gallery_routes.ROUTES,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={FacetoryError: _facetory_error})
    app.state.build = WebBuild(Path(build_dir), token)
    return Guard(app, token=token, loopback=loopback)


async def _facetory_error(request: Request, exc: Exception) -> Response:
    """A plan.yaml that cannot be read (a bad hand edit) is a page that says so."""
    return web(request).page(request, "problem.html", status_code=422, problem=str(exc))


__all__ = ["PAGE", "BuildLocked", "create_app"]
