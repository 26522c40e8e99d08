"""What every route of the review app shares: the build directory as the app sees it, the
page renderer, and the one containment check that every file route goes through."""

from __future__ import annotations

import secrets
import shlex
import subprocess
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.templating import Jinja2Templates

from agent.runtime.context import BuildContext
from agent.runtime.lock import is_locked
from agent.web import plan_view
from agent.web.samples import SampleRenderer
from agent.wording import plural, within
from tools.build_dir import BuildPaths
from tools.stores.manifest import Manifest

HERE = Path(__file__).parent
PAGE = 60
"""Images per gallery page."""
RUN_LOG = "web_run.log"
"""What a build started from the page printed (the terminal's output, for the curious)."""


class WebBuild:
    """One build directory as the app sees it; caches what is cheap to keep."""

    def __init__(self, root: Path, token: str) -> None:
        self.paths = BuildPaths(root)
        self.root = root
        self.token = token
        self.samples = SampleRenderer(root)
        self.flash: dict[str, dict[str, Any]] = {}
        self.templates = _templates(token)
        self._head: tuple[tuple[int, int], plan_view.PlanHead] | None = None
        self._manifest: Manifest | None = None
        self.run: subprocess.Popen | None = None
        """The `facetory run` this app started, while it starts up and runs."""

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

    def started(self) -> bool:
        manifest = self.manifest()
        return manifest is not None and manifest.attempts() > 0

    def locked(self) -> bool:
        """A build holds the directory, or the run this app started is still starting (it
        takes the lock once its imports are done, seconds later on a busy machine)."""
        return is_locked(self.root) or (self.run is not None and self.run.poll() is None)

    def approved(self) -> bool:
        from agent.planning.approval import is_approved

        return is_approved(self.root)

    def context(self) -> BuildContext:
        return BuildContext(paths=self.paths)

    def put_flash(self, **data: Any) -> str:
        key = secrets.token_hex(6)
        self.flash = {key: data}  # only the latest message is kept
        return key

    def page(self, request: Request, name: str, status_code: int = 200, **ctx: Any) -> Response:
        """A page from templates/, with what the header of every page shows."""
        common = {"build_name": self.root.name, "build_path": shlex.quote(str(self.root)),
                  "locked": self.locked(), "approved": self.approved(),
                  "started": self.started()}
        return self.templates.TemplateResponse(request, name, {**common, **ctx},
                                               status_code=status_code)


def web(request: Request) -> WebBuild:
    """The build the app serving `request` was made for (`app.create_app`)."""
    return request.app.state.build


def _templates(token: str) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(token=token)
    templates.env.filters["pct"] = lambda v: f"{v * 100:.3g}%"
    templates.env.filters["num"] = lambda v: f"{v:,}"
    templates.env.filters["duration"] = _duration
    templates.env.filters["plural"] = plural
    templates.env.filters["within"] = within
    return templates


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def contained(root: Path, path: Path) -> Path | None:
    """The file `path` resolves to when that is inside the build directory, else None: every
    file route goes through this one check (no traversal, no symlink out of the build)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        return None
    return resolved


def inside(root: Path, path: Path, *, media_type: str | None = None,
           cache: bool = True) -> Response:
    """A file response only when the file resolves inside the build directory."""
    resolved = contained(root, path)
    if resolved is None:
        return PlainTextResponse("no such file", status_code=404)
    headers = {"Cache-Control": "private, max-age=3600" if cache else "no-store"}
    return FileResponse(resolved, media_type=media_type, headers=headers)
