"""The explorer's web server (Starlette, run by uvicorn on 127.0.0.1 only).

Routes: ``/`` the page, ``/static/*`` its files, ``GET /api/kinds``, ``POST /api/curve`` and
``POST /api/check`` (JSON in, JSON out; see :mod:`lrdecay.explore.api`).

Only the page itself may use the API: every request must be addressed to this server by name
(``Host`` is ``127.0.0.1:PORT`` or ``localhost:PORT``, which stops DNS rebinding), and an API
request that says where it comes from (``Origin``, ``Sec-Fetch-Site``) must come from this
server's own page. The page and its static files open from a link on any site (that is how a
view is shared); they can't be framed (``X-Frame-Options: DENY``). POST bodies must be JSON and
at most ``MAX_BODY`` bytes; one request evaluates at most ``MAX_SPECS`` schedules on at most
``api.MAX_POINTS`` steps each.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import threading
import urllib.parse
import webbrowser
from functools import lru_cache
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from lrdecay.core.spec import SpecError
from lrdecay.explore import api
from lrdecay.tools.summary import MAX_STEP

__all__ = ["MAX_BODY", "MAX_SPECS", "DEFAULT_PORT", "create_app", "bind", "page_url", "serve"]

STATIC = Path(__file__).resolve().parent / "static"
#: Largest request body accepted, in bytes.
MAX_BODY = 256 * 1024
#: Most schedules one request may evaluate (the page overlays at most this many).
MAX_SPECS = 8
#: The port tried first when none is given; a free one is chosen when it is taken.
DEFAULT_PORT = 8765
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_PAGE_HEADERS = {
    **_HEADERS,
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
}


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class LocalOnly:
    """ASGI middleware: refuse requests not addressed to this server by name, and API requests
    sent from another origin (403, with a JSON message)."""

    def __init__(self, app, port: int):
        self.app = app
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            reason = None
            if headers.get("host") not in self.hosts:
                reason = f"requests must be addressed to {' or '.join(sorted(self.hosts))}"
            elif not scope["path"].startswith("/api/"):
                pass  # the page and its files: a shared link followed from another site opens it
            elif "origin" in headers and headers["origin"] not in self.origins:
                reason = f"requests from {headers['origin'][:100]!r} are refused: only this page may use the API"
            elif headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
                reason = "cross-site requests are refused: only this page may use the API"
            if reason is not None:
                await JSONResponse({"error": reason}, status_code=403, headers=_HEADERS)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _json_body(request) -> dict:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(415, "send the request as application/json")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BadRequest(413, f"the request body is larger than {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BadRequest(413, f"the request body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "the request body must be a JSON object")
    return data


def _specs(data: dict) -> list[str]:
    specs = data.get("specs")
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise BadRequest(400, "'specs' must be a list of spec texts")
    if not 1 <= len(specs) <= MAX_SPECS:
        raise BadRequest(400, f"'specs' must hold 1 to {MAX_SPECS} specs, got {len(specs)}")
    return specs


def _whole(data: dict, name: str, low: int, high: int, default=None):
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(400, f"'{name}' must be a whole number from {low} to {high}, got {value!r}")
    return value


def _read_all(texts: list[str]) -> list:
    """Each spec's schedule, or the SpecError that says what is wrong with it."""
    read = []
    for text in texts:
        try:
            read.append(api.read_spec(text))
        except SpecError as error:
            read.append(error)
    return read


def _failure(error: Exception) -> dict:
    if isinstance(error, SpecError):
        return {"ok": False, "error": api.spec_error(error)}
    return {"ok": False, "error": {"message": f"{type(error).__name__}: {error}", "line": None, "column": None}}


def _endpoint(handler, gate: asyncio.Semaphore | None = None):
    """An endpoint that runs ``handler`` on the request's JSON in a worker thread; with a
    ``gate``, one request at a time, and a request whose page stopped waiting is skipped."""
    async def endpoint(request):
        try:
            data = await _json_body(request)
            if gate is None:
                return JSONResponse(await run_in_threadpool(handler, data), headers=_HEADERS)
            async with gate:
                if await request.is_disconnected():
                    return Response(status_code=204)
                return JSONResponse(await run_in_threadpool(handler, data), headers=_HEADERS)
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=error.status, headers=_HEADERS)
    return endpoint


def curve_payload(data: dict) -> dict:
    """``POST /api/curve``: ``{"specs": [...], "steps": N?, "start": a?, "stop": b?,
    "points": k?}`` -> the window, its steps, and per spec the values and the spec written out,
    or the parser's message."""
    read = _read_all(_specs(data))
    schedules = [s for s in read if not isinstance(s, Exception)]
    steps = _whole(data, "steps", 1, MAX_STEP)
    steps = api.training_steps(schedules, steps) if schedules else steps or 100
    start = _whole(data, "start", 0, MAX_STEP, 0)
    stop = _whole(data, "stop", 0, MAX_STEP, steps - 1)
    if stop < start:
        raise BadRequest(400, f"'stop' ({stop}) must not be before 'start' ({start})")
    points = _whole(data, "points", 2, api.MAX_POINTS, 1000)
    x = api.grid(start, stop, points)
    series = []
    with np.errstate(all="ignore"):
        for item in read:
            if isinstance(item, Exception):
                series.append(_failure(item))
                continue
            try:
                series.append({"ok": True, "y": api.values(item, x), **api.describe(item)})
            except (ValueError, TypeError, ArithmeticError) as error:
                series.append(_failure(error))
    return {"steps": steps, "start": start, "stop": stop, "x": x.tolist(), "series": series}


def check_payload(data: dict) -> dict:
    """``POST /api/check``: ``{"specs": [...], "steps": N?}`` -> per spec the summary and the
    warnings of ``lrdecay check``, or the parser's message."""
    read = _read_all(_specs(data))
    schedules = [s for s in read if not isinstance(s, Exception)]
    steps = _whole(data, "steps", 1, MAX_STEP)
    steps = api.training_steps(schedules, steps) if schedules else steps or 100
    results = []
    with np.errstate(all="ignore"):
        for item in read:
            try:
                results.append(_failure(item) if isinstance(item, Exception) else {"ok": True, **api.check(item, steps)})
            except (ValueError, TypeError, ArithmeticError) as error:
                results.append(_failure(error))
    return {"steps": steps, "results": results}


@lru_cache(maxsize=1)
def _kinds() -> list[dict]:
    return api.kinds()


async def _kinds_endpoint(request):
    return JSONResponse({"kinds": _kinds()}, headers=_HEADERS)


async def _page(request):
    return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)


def create_app(port: int) -> LocalOnly:
    """The explorer as an ASGI app that answers only requests addressed to 127.0.0.1:``port``
    (or localhost:``port``) from its own page."""
    app = Starlette(routes=[
        Route("/", _page),
        Route("/api/kinds", _kinds_endpoint),
        Route("/api/curve", _endpoint(curve_payload), methods=["POST"]),
        # a check may evaluate a million steps per schedule: one at a time, stale ones skipped
        Route("/api/check", _endpoint(check_payload, asyncio.Semaphore(1)), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])
    return LocalOnly(app, port)


def bind(port: int | None = None) -> socket.socket:
    """A listening socket on 127.0.0.1: ``port``, or ``DEFAULT_PORT`` and else a free one when
    ``port`` is None (0 also asks for a free one). A given port that is taken raises OSError."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            sock.bind(("127.0.0.1", DEFAULT_PORT if port is None else port))
        except OSError as error:
            if port is not None or error.errno != errno.EADDRINUSE:
                raise
            sock.bind(("127.0.0.1", 0))
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    return sock


def page_url(port: int, specs=(), steps: int | None = None, log: bool = False) -> str:
    """The page's address showing ``specs`` (the page keeps its view in these parameters)."""
    query = [("s", s) for s in specs]
    if steps is not None:
        query.append(("steps", str(steps)))
    if log:
        query.append(("log", "1"))
    return f"http://127.0.0.1:{port}/" + (f"?{urllib.parse.urlencode(query)}" if query else "")


def serve(specs=(), *, port: int | None = None, steps: int | None = None, log: bool = False,
          open_browser: bool = True, announce=print) -> None:
    """Run the explorer until interrupted; open the page in the browser unless told not to."""
    import uvicorn

    sock = bind(port)
    actual = sock.getsockname()[1]
    url = page_url(actual, specs, steps, log)
    server = uvicorn.Server(uvicorn.Config(create_app(actual), log_level="warning", lifespan="off"))
    announce(f"lrdecay explorer: {url}  (Ctrl+C stops it)")
    if open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def _open_when_started(server, url: str) -> None:
    import time

    for _ in range(200):
        if server.started:
            webbrowser.open(url)
            return
        time.sleep(0.05)
