"""Who may do what: the roles of the two tokens, and a guard in front of every route, Gradio's included.

With ``RAG_API_TOKEN`` set, every request needs a role: a bearer token in ``Authorization`` or the
session cookie the login page sets. ``RAG_API_TOKEN`` gives the ``write`` role (everything);
``RAG_READ_TOKEN`` the ``read`` role (ask, search, citations, the document list; no upload or delete).
Without a token every caller has the ``write`` role.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from urllib.parse import quote

from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.roles import NEED_WRITE, READ, WRITE, may_write
from rag.settings import Settings

COOKIE = "rag_session"
OPEN_PATHS = ("/healthz", "/login", "/logout")  # everything else needs a role
GRADIO_WRITES = ("/gradio_api/upload", "/gradio_api/process_recording", "/gradio_api/vibe-",
                 "/gradio_api/undo-vibe-", "/gradio_api/dev/")  # files onto the server, code edits
NEED_TOKEN = "missing or wrong token (send Authorization: Bearer TOKEN, or log in at /login)"


def tokens(settings: Settings) -> dict[str, str]:
    """Role -> token, for the tokens that are set (empty: no authentication)."""
    if not settings.api_token:
        return {}
    found = {WRITE: settings.api_token}
    if settings.read_token:
        found[READ] = settings.read_token
    return found


def role_of_token(settings: Settings, given: str) -> str | None:
    """The role a token grants, or None."""
    known = tokens(settings)
    if not known:
        return WRITE
    return next((role for role, token in known.items()
                 if hmac.compare_digest(given.encode(), token.encode())), None)


def session_value(settings: Settings, role: str) -> str:
    """The cookie value of a logged-in role: the role, signed with that role's token."""
    token = tokens(settings)[role]
    return f"{role}.{hmac.new(token.encode(), b'rag-session', hashlib.sha256).hexdigest()}"


def role_of(settings: Settings, conn: HTTPConnection) -> str | None:
    """The role of a request from its bearer token or session cookie; None when it has neither."""
    if not tokens(settings):
        return WRITE
    scheme, _, given = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given:
        return role_of_token(settings, given.strip())
    cookie = conn.cookies.get(COOKIE, "")
    role = cookie.partition(".")[0]
    signed = role in tokens(settings) and session_value(settings, role)
    return role if signed and hmac.compare_digest(cookie.encode(), signed.encode()) else None


class AuthGuard:
    """ASGI middleware: no role, no entry (a browser is sent to the login page); Gradio uploads need write."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        role = role_of(self.settings, conn)
        if role is not None and (may_write(role) or not scope["path"].startswith(GRADIO_WRITES)):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        await refusal(conn, role)(scope, receive, send)


def refusal(conn: HTTPConnection, role: str | None) -> Response:
    """403 for a role that may not write; 401 without a role (a browser page goes to the login page)."""
    if role is not None:
        return JSONResponse({"detail": NEED_WRITE}, status_code=403)
    wants_page = conn.scope.get("method") == "GET" and "text/html" in conn.headers.get("accept", "")
    if wants_page:
        return RedirectResponse(f"/login?next={quote(conn.url.path)}", status_code=303)
    return JSONResponse({"detail": NEED_TOKEN}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


LOGIN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>rag: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>
body{{font-family:system-ui,sans-serif;max-width:24rem;margin:15vh auto;padding:0 1rem}}
input{{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}} .error{{color:#b91c1c}}
</style></head><body><h2>Ask your documents</h2><p>This server needs a token.</p>
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<label>Token <input type="password" name="token" id="token" autofocus required></label>
<p class="error">{error}</p><button type="submit">Log in</button></form></body></html>"""


def show_login(request: Request) -> Response:
    """The login form (straight on to the window when no token is needed)."""
    next_path = request.query_params.get("next", "/")
    if not tokens(request.app.state.runtime.settings):
        return RedirectResponse(local(next_path), status_code=303)
    return login_page(next_path)


def login_page(next_path: str = "/", error: str = "", status: int = 200) -> HTMLResponse:
    """The login form."""
    return HTMLResponse(LOGIN_PAGE.format(next=html.escape(local(next_path)), error=html.escape(error)),
                        status_code=status)


async def login(request: Request) -> Response:
    """A right token sets the session cookie and goes on to ``next``; a wrong one shows the form again."""
    form = await request.form()
    settings: Settings = request.app.state.runtime.settings
    token, next_path = str(form.get("token", "")), local(str(form.get("next", "/")))
    role = role_of_token(settings, token) if tokens(settings) else None
    if role is None:
        return login_page(next_path, "Wrong token.", 401)
    reply = RedirectResponse(next_path, status_code=303)
    reply.set_cookie(COOKIE, session_value(settings, role), httponly=True, samesite="lax",
                     secure=request.url.scheme == "https")
    return reply


def logout(_: Request) -> Response:
    """Forget the session cookie."""
    reply = RedirectResponse("/login", status_code=303)
    reply.delete_cookie(COOKIE)
    return reply


def local(path: str) -> str:
    """Only a path on this server (no other host) as a place to go after logging in."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/"
