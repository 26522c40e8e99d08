"""Start the review server: bind (a free port by default), print the URL, open a browser."""

from __future__ import annotations

import os
import socket
import sys
import webbrowser
from pathlib import Path

from agent.web.security import is_loopback, new_token
from tools.errors import FacetoryError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one); a clear error when it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise FacetoryError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(64)
    return sock


def serve(build_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
          open_browser: bool = True, echo=print) -> None:
    """Serve the build's review app until interrupted."""
    import uvicorn

    from agent.web.app import create_app

    if not (build_dir / "plan.yaml").exists():
        raise FacetoryError(
            f"{build_dir} has no plan.yaml: start with `facetory plan SPEC --out {build_dir}`"
        )
    loopback = is_loopback(host)
    token = new_token()
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/"
    app = create_app(build_dir, token=token, loopback=loopback)
    if loopback:
        echo(f"facetory review: {url}  (Ctrl-C to stop)")
    else:
        echo(f"facetory review: {url}?token={token}  (token required: {token}; Ctrl-C to stop)")
    if open_browser and _has_display():
        webbrowser.open(url if loopback else f"{url}?token={token}")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def _has_display() -> bool:
    """A desktop to open a browser on: always on macOS and Windows, on Linux an X or Wayland
    display (a headless server would start a browser that can only fail, noisily)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
