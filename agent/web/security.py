"""Who may talk to the review server, and which requests may change anything.

- Bound to a loopback address, any local page may read, but the Host header must name the
  loopback address (a DNS-rebinding page cannot read it through another name).
- Bound anywhere else, every request needs the token printed at start: once in the URL
  (`?token=`), then a same-site, HTTP-only cookie carries it.
- Every request that changes state (POST) needs the token (form field or header) or an
  Origin header equal to the server's own origin, so another site cannot post a form to it.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "facetory_token"
HEADER = "x-facetory-token"
MAX_FORM = 256 * 1024


def new_token() -> str:
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class Guard:
    """ASGI middleware for the checks that apply to every request."""

    def __init__(self, app: ASGIApp, *, token: str, loopback: bool) -> None:
        self.app = app
        self.token = token
        self.loopback = loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self.refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        query_token = request.query_params.get("token")
        if query_token and _same(query_token, self.token):
            # trade the token in the URL for a cookie, and drop it from the address bar
            clean = request.url.remove_query_params("token")
            response = RedirectResponse(str(clean.path + ("?" + clean.query if clean.query
                                                           else "")), status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, request: Request) -> Response | None:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if self.loopback and not is_loopback(host):
            return PlainTextResponse("refused: unexpected Host header", status_code=403)
        if not self.loopback and not self.has_token(request):
            return PlainTextResponse("refused: this server needs its token", status_code=401)
        return None

    def has_token(self, request: Request) -> bool:
        for candidate in (request.cookies.get(COOKIE), request.headers.get(HEADER),
                          request.query_params.get("token")):
            if _same(candidate, self.token):
                return True
        return False


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_FORM: counted as it arrives, so a huge POST
    costs one chunk of memory, not its size."""
    try:
        announced = int(request.headers.get("content-length") or 0)
    except ValueError:
        announced = 0
    if announced > MAX_FORM:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def checked_form(request: Request, token: str) -> dict[str, str] | Response:
    """The POSTed form (urlencoded) when the request may change state, else a 403 response."""
    body = await _bounded_body(request)
    if body is None:
        return PlainTextResponse("refused: form too large", status_code=413)
    form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    if _same(form.get("token"), token) or _same(request.headers.get(HEADER), token):
        return form
    origin = request.headers.get("origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if parts.netloc and parts.netloc == request.headers.get("host"):
            return form
    return PlainTextResponse(
        "refused: a request that changes the build needs the page's token or the same origin",
        status_code=403,
    )
