"""The explorer's web server (Starlette, run by uvicorn on 127.0.0.1 only).

Routes: ``/`` the page, ``/static/*`` its files, ``GET /api/kinds``, and one ``POST /api/<job>``
per entry of ``JOBS`` (``curve``, ``check``; JSON in, JSON out; see :mod:`lrdecay.explore.api`).

Only the page itself may use the API: every request must be addressed to this server by name
(``Host`` is ``127.0.0.1:PORT`` or ``localhost:PORT``, which stops DNS rebinding), and an API
request that says where it comes from (``Origin``, ``Sec-Fetch-Site``) must come from this
server's own page; a request with two of these headers is refused. The page and its static files
open from a link on any site (that is how a view is shared); they can't be framed
(``X-Frame-Options: DENY``).

Bounds on the work: a connection sends its headers (at most ``MAX_HEADERS`` bytes) within
``HEADER_TIMEOUT`` seconds and its body (JSON, at most ``MAX_BODY`` bytes) within
``BODY_TIMEOUT``; at most ``MAX_CONNECTIONS`` are open. Every job runs in a worker process
(:class:`Pool`, forked from a process that holds the library) within ``BUDGET`` seconds and
``WORK_MEMORY`` bytes: past them, or when its client has gone, the worker is killed, so the
work really stops and the server's own memory stays flat. ``WORKERS`` workers wait for
requests; a job still running after ``LONG`` seconds gives its place to a fresh worker, so one
heavy request does not hold up the page's, and at most ``LONG_JOBS`` such jobs run at a time (a
request that ran long lately goes that way at once). The list of kinds is made once, in a child
process. A new job (a forecast, say) is one entry of ``JOBS``: it gets its route and the same
bounds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import errno
import gc
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import threading
import traceback
import urllib.parse
import weakref
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from lrdecay.core.spec import SpecError
from lrdecay.explore import api
from lrdecay.tools.summary import MAX_STEP

if TYPE_CHECKING:
    import uvicorn

__all__ = ["MAX_BODY", "MAX_SPECS", "MAX_HEADERS", "MAX_CONNECTIONS", "MAX_ANSWER", "HEADER_TIMEOUT",
           "BODY_TIMEOUT", "BUDGET", "LONG", "LONG_JOBS", "WORKERS", "WORK_MEMORY", "DEFAULT_PORT", "JOBS", "Pool",
           "create_app", "config", "bind", "page_url", "serve"]

STATIC = Path(__file__).resolve().parent / "static"
#: Largest request body accepted, in bytes.
MAX_BODY = 256 * 1024
#: Most schedules one request may evaluate (the page overlays at most this many).
MAX_SPECS = 8
#: Largest request line and headers, in bytes.
MAX_HEADERS = 16 * 1024
#: Most connections open at once; past it the oldest one still waiting for a request is closed.
MAX_CONNECTIONS = 100
#: Largest answer, in bytes (an answer that would be larger gets 422).
MAX_ANSWER = 8 * 1024 * 1024
#: Seconds a connection has to send a request's headers (after it opens or after an answer).
HEADER_TIMEOUT = 5.0
#: Seconds a request has to send its body, once its headers are in.
BODY_TIMEOUT = 5.0
#: Seconds of work one API request may take in its worker process; past it, 422.
BUDGET = 2.0
#: Seconds after which a job counts as long: its worker is replaced at once, so that the next
#: requests need not wait for it.
LONG = 0.25
#: Most long jobs at once; one more is stopped (503).
LONG_JOBS = 1
#: Worker processes ready for requests (long jobs run in up to ``LONG_JOBS`` more).
WORKERS = 2
#: Bytes of memory a worker may take beyond its size at start, while answering; past it, 422.
WORK_MEMORY = 128 * 1024 * 1024
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
_SINGLE = (b"host", b"origin", b"sec-fetch-site")  # headers that must come at most once
_LONG_NICE = 10  # a long job's worker runs at this lower priority
_FIRST_START = 60.0  # seconds requests wait for the first workers (spawned ones import the library)
_RECENT_S, _RECENT_COUNT = 60.0, 256  # how long and how many requests that ran long are remembered


class BadRequest(Exception):
    """A request answered with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class LocalOnly:
    """ASGI middleware: refuse requests not addressed to this server by name, API requests
    sent from another origin (403), requests with a repeated Host, Origin or Sec-Fetch-Site
    header (400) and headers over ``MAX_HEADERS`` bytes (431), with a JSON message."""

    def __init__(self, app, port: int):
        self.app = app
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            names = [k.lower() for k, _ in scope["headers"]]
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            status, reason = 403, None
            repeated = [name.decode() for name in _SINGLE if names.count(name) > 1]
            if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > MAX_HEADERS:
                status, reason = 431, f"the request's headers are larger than {MAX_HEADERS} bytes"
            elif repeated:
                status, reason = 400, f"a request with more than one {repeated[0].title()} header is refused"
            elif headers.get("host") not in self.hosts:
                reason = f"requests must be addressed to {' or '.join(sorted(self.hosts))}"
            elif not scope["path"].startswith("/api/"):
                pass  # the page and its files: a shared link followed from another site opens it
            elif "origin" in headers and headers["origin"] not in self.origins:
                reason = f"requests from {headers['origin'][:100]!r} are refused: only this page may use the API"
            elif headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
                reason = "cross-site requests are refused: only this page may use the API"
            if reason is not None:
                await JSONResponse({"error": reason}, status_code=status, headers=_HEADERS)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _json_body(request) -> tuple[dict, bytes]:
    """The request's JSON object, and its body."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(415, "send the request as application/json")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BadRequest(413, f"the request body is larger than {MAX_BODY} bytes")

    async def read() -> bytearray:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise BadRequest(413, f"the request body is larger than {MAX_BODY} bytes")
        return body

    try:
        body = await asyncio.wait_for(read(), BODY_TIMEOUT)
    except asyncio.TimeoutError:
        raise BadRequest(408, f"the request body did not arrive within {BODY_TIMEOUT:g} s") from None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "the request body must be a JSON object")
    return data, bytes(body)


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


#: The longest run ``/api/forecast`` predicts (the law's sums grow with the steps times the points).
MAX_FORECAST_STEPS = 500_000
#: Steps ``/api/forecast`` predicts the loss at, evenly spread, the last one included.
FORECAST_POINTS = 120


def forecast_payload(data: dict) -> dict:
    """``POST /api/forecast``: ``{"law": {...}, "specs": [...], "steps": N}`` -> per spec the
    loss the law (``lrdecay forecast fit -o law.json``) predicts at ``FORECAST_POINTS`` steps of
    ``0 .. N-1`` and at the last one (``final``), or the parser's message. A loss that is not
    finite (before any training) is ``null``."""
    law_data = data.get("law")
    if not isinstance(law_data, dict):
        raise BadRequest(400, "'law' must be a law as JSON (what lrdecay forecast fit -o law.json writes)")
    try:
        from lrdecay.forecast import from_dict as law_from_dict  # SciPy: loaded by the first forecast
    except ImportError:
        raise BadRequest(400, "this server cannot forecast: pip install 'lrdecay[forecast]'") from None
    try:
        law = law_from_dict(law_data)
    except (TypeError, ValueError) as error:
        raise BadRequest(400, f"law: {error}") from None
    read = _read_all(_specs(data))
    steps = _whole(data, "steps", 2, MAX_FORECAST_STEPS)
    if steps is None:
        raise BadRequest(400, "'steps' (the length of the run) is required")
    x = np.unique(np.linspace(0, steps - 1, FORECAST_POINTS).round().astype(np.int64))
    curves = []
    with np.errstate(all="ignore"):
        for item in read:
            if isinstance(item, Exception):
                curves.append({"error": _failure(item)["error"]["message"]})
                continue
            try:
                loss = law.predict(item, x)
            except (ValueError, TypeError, ArithmeticError) as error:
                curves.append({"error": str(error)})
                continue
            values = [float(v) if np.isfinite(v) else None for v in loss]
            curves.append({"steps": x.tolist(), "loss": values, "final": values[-1]})
    return {"steps": steps, "curves": curves}


#: The API's jobs: ``POST /api/<name>`` answers with ``JOBS[name](request JSON)``, run in a worker
#: process within ``BUDGET``. A new job (e.g. ``forecast``: a law and specs -> a loss curve per
#: schedule) is a module-level function of the request's JSON returning JSON-able data, raising
#: ``BadRequest`` for a bad request, added here; add a request to ``_WARM_UP`` if it imports
#: modules the others don't.
JOBS = {"curve": curve_payload, "check": check_payload, "forecast": forecast_payload}
#: Requests a worker answers before its memory is limited, so that what they import is in place.
_WARM_UP = [
    ("curve", {"specs": ["warmup(cosine_decay(0.1, 90), steps=10)", '{"kind": "constant", "value": 0.1}',
                         "kind: noisy_linear_cosine_decay\nlearning_rate: 0.1\ndecay_steps: 100\n"], "points": 50}),
    ("check", {"specs": ["warmup(cosine_decay(0.1, 90), steps=10)", "noisy_linear_cosine_decay(0.1, 100)"]}),
    ("forecast", {"law": {"law": "annealing", "L0": 3.0, "A": 0.5, "alpha": 0.5, "C": 1.0, "lam": 0.999},  # SciPy
                  "specs": ["warmup(cosine_decay(0.1, 90), steps=10)"], "steps": 100}),
]


def _size(count: int) -> str:
    return f"{count >> 20} MiB" if count % 2**20 == 0 else f"{count} bytes"


def _error_json(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


def _answer(job: str, data, memory: int = WORK_MEMORY) -> tuple[int, bytes, bool]:
    """``(status, JSON body, whether the worker should stop after it)`` for one job, in a worker
    given ``memory`` bytes."""
    try:
        body = json.dumps(JOBS[job](data), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    except BadRequest as error:
        return error.status, _error_json(str(error)), False
    except MemoryError:
        return 422, _error_json(f"this request needs more than {_size(memory)} of memory: ask for fewer "
                                "or simpler schedules, steps or points"), True
    except RecursionError:
        return 422, _error_json("this request is nested too deeply"), False
    except Exception as error:  # a bug: say what it is, keep the worker
        return 500, _error_json(f"the explorer failed: {type(error).__name__}: {str(error)[:300]}"), False
    if len(body) > MAX_ANSWER:
        return 422, _error_json(f"the answer would be larger than {_size(MAX_ANSWER)}: ask for fewer "
                                "or simpler schedules, or fewer points"), False
    return 200, body, False


def _limit_memory(extra: int) -> None:
    """Let this process grow by at most ``extra`` bytes of address space (Linux; elsewhere the
    time budget alone bounds a job)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + extra if hard == resource.RLIM_INFINITY else min(size + extra, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass


def _work(conn, memory: int, warm: bool = True) -> None:
    """A worker process: answer ``(job, data)`` from ``conn`` with ``_answer``'s triple until
    ``conn`` closes (or an answer says to stop); ``warm``: import what jobs need first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which stops its workers
    for job, data in _WARM_UP if warm else ():
        _answer(job, data)
    _limit_memory(memory)
    conn.send_bytes(b"ready")
    while True:
        try:
            job, data = conn.recv()
        except (EOFError, OSError):
            return
        answer = _answer(job, data, memory)
        conn.send(answer)
        if answer[2]:
            return


def _zygote(fd: int, memory: int) -> None:
    """The process workers are forked from (POSIX): it imports and warms up the library once,
    then on its control socket ``fd`` forks a worker on a passed socket (``F``, answers the
    pid) or kills and reaps one (``K`` pid), so that no pid is reused while the server holds it.
    It kills its workers and exits when the server closes the socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for job, data in _WARM_UP:
        _answer(job, data)
    gc.freeze()  # the collector of a worker leaves these objects (and their shared pages) alone
    control = socket.socket(fileno=fd)
    control.sendall(b"R")
    children = set()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 9, 1)
        except OSError:
            break
        if len(message) != 9:
            break  # the server has gone (or spoke out of turn)
        number = int.from_bytes(message[1:], "little", signed=True)
        if message[:1] == b"F" and fds:
            pid = os.fork()
            if pid == 0:
                control.close()
                code = 0
                try:
                    _work(multiprocessing.connection.Connection(fds[0]), memory, warm=False)
                except BaseException:  # noqa: BLE001 - a worker's last words, then its end
                    traceback.print_exc()
                    code = 1
                os._exit(code)
            os.close(fds[0])
            children.add(pid)
            number = pid
        elif number in children:  # never another process: a pid is free again once reaped
            _kill_child(number)
            children.discard(number)
        control.sendall(number.to_bytes(8, "little", signed=True))
    for pid in children:
        _kill_child(pid)


def _kill_child(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)


class _Zygote:
    """Workers forked from a ``_zygote`` process: each starts in milliseconds, sharing the
    library's memory with the others."""

    def __init__(self, memory: int):
        ours, theirs = socket.socketpair()
        code = (f"import sys; sys.path[:] = {sys.path!r}; "
                f"from lrdecay.explore.server import _zygote; _zygote({theirs.fileno()}, {memory})")
        self.process = subprocess.Popen([sys.executable, "-c", code], pass_fds=[theirs.fileno()],
                                        stdin=subprocess.DEVNULL)
        theirs.close()
        self.sock = ours
        self.sock.settimeout(120)  # the first import of the library, on a busy machine
        self.lock = threading.Lock()
        try:
            if self._read(1) != b"R":
                raise OSError(f"the explorer's worker process did not start (exit code {self.process.poll()})")
        except OSError:
            self.close()
            raise
        self.sock.settimeout(30)

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def _ask(self, message: bytes, fds=()) -> int:
        with self.lock:
            socket.send_fds(self.sock, [message], list(fds))
            answer = self._read(8)
        if len(answer) != 8:
            raise OSError(f"the explorer's worker process stopped (exit code {self.process.poll()})")
        return int.from_bytes(answer, "little", signed=True)

    def start(self) -> tuple[int, multiprocessing.connection.Connection]:
        ours, theirs = socket.socketpair()
        try:
            pid = self._ask(b"F" + bytes(8), [theirs.fileno()])
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        return pid, multiprocessing.connection.Connection(ours.detach())

    def stop(self, pid: int) -> None:
        """Kill worker ``pid`` now (its pid is not reused before ``reap``)."""
        if self.process.poll() is None:  # else its workers were reaped by another: their pids are free
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def reap(self, pid: int) -> None:
        """Kill worker ``pid`` (if it still runs) and wait for its end (blocks)."""
        with contextlib.suppress(OSError):
            self._ask(b"K" + pid.to_bytes(8, "little", signed=True))

    def close(self) -> None:
        self.sock.close()  # the zygote kills its workers and exits
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def pids(self) -> list[int]:
        return [self.process.pid]


class _Spawner:
    """Spawned workers, where there is no fork (Windows): each imports the library itself."""

    def __init__(self, memory: int):
        self.memory = memory
        self.context = multiprocessing.get_context("spawn")
        self.processes: dict[int, multiprocessing.process.BaseProcess] = {}

    def start(self) -> tuple[int, multiprocessing.connection.Connection]:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_work, args=(theirs, self.memory), daemon=True,
                                       name="lrdecay-explore-worker")
        process.start()
        theirs.close()
        self.processes[process.pid] = process
        return process.pid, ours

    def stop(self, pid: int) -> None:
        process = self.processes.get(pid)
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                process.kill()

    def reap(self, pid: int) -> None:
        process = self.processes.pop(pid, None)
        if process is not None:
            process.kill()
            process.join(10)
            with contextlib.suppress(ValueError):
                process.close()

    def close(self) -> None:
        for pid in list(self.processes):
            self.reap(pid)

    def pids(self) -> list[int]:
        return []


@dataclasses.dataclass(eq=False)
class _Worker:
    pid: int
    conn: multiprocessing.connection.Connection
    long: bool = False  # running a long job: out of the pool, stopped when it is done
    unwatch: object = None  # stops watching ``conn``


class Pool:
    """``size`` worker processes that answer ``JOBS``, each job within ``budget`` seconds and
    ``memory`` bytes: a worker that runs past its time (or whose client has gone) is killed. A
    job still running after ``long`` seconds leaves the pool (a fresh worker takes its place at
    once, and the job's worker runs at a lower priority and stops when it is done); at most
    ``long_jobs`` of them run at a time, one more is stopped (503). A request that ran long in
    the last minute runs as a long job from the start (or gets 503 at once), so that repeating it
    doesn't hold up short ones. Requests wait at most ``budget`` for a free worker (else 503).
    Workers are forked from a warmed-up process where the system can fork (``fork=None``: where
    it can), else spawned."""

    def __init__(self, size: int = WORKERS, *, long_jobs: int = LONG_JOBS, budget: float = BUDGET,
                 long: float = LONG, memory: int = WORK_MEMORY, fork: bool | None = None):
        if size < 1 or long_jobs < 0:
            raise ValueError(f"a pool needs a worker or more and 0 or more long jobs, got {size} and {long_jobs}")
        if not 0 < long < budget:
            raise ValueError(f"long ({long}) must be between 0 and the budget ({budget})")
        self.size, self.long_jobs, self.budget, self.long, self.memory = size, long_jobs, budget, long, memory
        self._fork = hasattr(os, "fork") and hasattr(socket, "send_fds") if fork is None else fork
        self._maker: _Zygote | _Spawner | None = None
        self._workers: set[_Worker] = set()  # started, ready or not
        self._idle: list[_Worker] = []
        self._waiting: collections.deque = collections.deque()
        self._long = 0
        self._starting = 0  # workers on their way (not yet in _workers)
        self._ending = 0  # workers for short jobs killed, not yet ended
        self._ready_once = False  # until a worker is ready, requests wait for the first start
        self._failures = 0
        self._broken: str | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set = set()
        self._lock = threading.Lock()
        self._recent: collections.OrderedDict[bytes, float] = collections.OrderedDict()  # long requests

    # -- processes ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers now (the first start imports the library once: about a second)."""
        with self._lock:
            if self._maker is None:
                self._maker = _Zygote(self.memory) if self._fork else _Spawner(self.memory)
                self._finalize = weakref.finalize(self, self._maker.close)  # also for a pool nobody closes
        while self._ready_or_starting() < self.size:
            self._workers.add(self._spawn())

    def close(self) -> None:
        """Stop every worker (call it once the server has stopped)."""
        self._closed = True
        for worker in list(self._workers):
            with contextlib.suppress(RuntimeError):  # a closed loop has no readers left
                self._unwatch(worker)
            worker.conn.close()
        self._workers.clear()
        self._idle.clear()
        if self._maker is not None:
            self._finalize()

    def pids(self) -> list[int]:
        """The process ids of the workers (and of the process they are forked from)."""
        return [*(self._maker.pids() if self._maker else []), *(w.pid for w in self._workers)]

    def _ready_or_starting(self) -> int:
        """Workers for short jobs: ready, on their way, or killed and not yet ended."""
        return sum(not w.long for w in self._workers) + self._starting + self._ending

    def _spawn(self) -> _Worker:
        pid, conn = self._maker.start()
        return _Worker(pid, conn)

    def _replace(self) -> None:
        """Start a worker in the background to take a lost one's place."""
        if self._closed or self._broken or self._ready_or_starting() >= self.size:
            return
        self._starting += 1

        async def start():
            try:
                worker = await self._loop.run_in_executor(None, self._spawn)
            except OSError as error:
                self._fail(f"the explorer cannot start a worker process: {error}")
                return
            finally:
                self._starting -= 1
            if self._closed:
                worker.conn.close()
                return
            self._workers.add(worker)
            self._watch_start(worker)

        task = asyncio.ensure_future(start())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _watch_start(self, worker: _Worker) -> None:
        def ready():
            self._unwatch(worker)
            try:
                worker.conn.recv_bytes()
            except (EOFError, OSError):
                self._failures += 1
                if self._failures >= 3:
                    self._fail("the explorer's worker processes stop as they start (see the messages above)")
                self._drop(worker, replace=True)  # not once the pool has failed
                return
            self._failures = 0
            self._ready_once = True
            self._release(worker)
        worker.unwatch = self._on_readable(worker.conn, ready)

    def _fail(self, message: str) -> None:
        self._broken = message
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(BadRequest(500, message))

    def _drop(self, worker: _Worker, replace: bool = False) -> None:
        """Kill ``worker`` (if it still runs) and forget it; once it has ended (its memory
        freed), free its place among the long jobs and, with ``replace``, start a fresh one."""
        self._workers.discard(worker)
        self._unwatch(worker)
        worker.conn.close()
        self._maker.stop(worker.pid)
        if not worker.long:
            self._ending += 1

        def ended(_):
            if worker.long:
                self._long -= 1
            else:
                self._ending -= 1
            if replace:
                self._replace()
        self._loop.run_in_executor(None, self._maker.reap, worker.pid).add_done_callback(ended)

    def _kill(self, worker: _Worker) -> None:
        """Stop ``worker`` and start a fresh one once it has ended."""
        self._drop(worker, replace=True)

    def _unwatch(self, worker: _Worker) -> None:
        if worker.unwatch is not None:
            worker.unwatch()
            worker.unwatch = None

    def _on_readable(self, conn, callback):
        """Call ``callback`` when ``conn`` can be read (or is closed); returns what stops it."""
        fd = conn.fileno()
        try:
            self._loop.add_reader(fd, callback)
            return lambda: self._loop.remove_reader(fd)
        except NotImplementedError:  # a loop without add_reader (Windows): a thread waits
            stopped = threading.Event()

            def wait():
                with contextlib.suppress(OSError, EOFError, ValueError):
                    conn.poll(None)
                if not stopped.is_set():
                    self._loop.call_soon_threadsafe(lambda: stopped.is_set() or callback())
            threading.Thread(target=wait, daemon=True).start()
            return stopped.set

    # -- jobs --------------------------------------------------------------------------------

    async def _ensure_started(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            if not self._workers:
                try:
                    await self._loop.run_in_executor(None, self.start)
                except OSError as error:
                    self._fail(f"the explorer cannot start its worker processes: {error}")
            for worker in list(self._workers):
                self._watch_start(worker)

    def _release(self, worker: _Worker) -> None:
        """A worker is free: to the request waiting longest, else idle."""
        if worker.long:  # replaced already
            self._drop(worker)
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)
        worker.unwatch = self._on_readable(worker.conn, lambda: self._lost_idle(worker))

    def _lost_idle(self, worker: _Worker) -> None:
        """An idle worker's pipe is readable: it has stopped by itself; replace it."""
        with contextlib.suppress(ValueError):
            self._idle.remove(worker)
        self._kill(worker)

    def _give_back(self, waiter: asyncio.Future) -> None:
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self._release(waiter.result())
        else:
            waiter.cancel()
            with contextlib.suppress(ValueError):
                self._waiting.remove(waiter)

    async def _acquire(self, gone: asyncio.Future) -> _Worker | None:
        """A free worker, or None when the client has gone first."""
        if self._broken:
            raise BadRequest(500, self._broken)
        if self._idle:
            worker = self._idle.pop()
            self._unwatch(worker)
            return worker
        waiter = self._loop.create_future()
        self._waiting.append(waiter)
        try:
            await asyncio.wait([waiter, gone], timeout=self.budget if self._ready_once else _FIRST_START,
                               return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            self._give_back(waiter)
            raise
        if waiter.done() and not gone.done():
            return waiter.result()  # a worker, or the pool's BadRequest
        self._give_back(waiter)
        if gone.done():
            return None
        raise BadRequest(503, f"the explorer is busy: no worker was free for {self.budget:g} s; try again")

    async def run(self, job: str, data, gone: asyncio.Future, key: bytes | None = None) -> tuple[int, bytes] | None:
        """``(status, JSON body)`` of ``job`` on ``data``, or None when ``gone`` (the client
        went away) finished first. Raises BadRequest when the job can't be answered. A ``key``
        (the request's hash) that ran long lately runs as a long job from the start."""
        await self._ensure_started()
        known = key is not None and self._known_long(key)
        if known and self._long >= self.long_jobs:  # refused without taking a worker from short requests,
            await asyncio.wait([gone], timeout=self.long)  # after the time it took before: a client
            if gone.done():  # that asks again at once can't flood the server
                return None
            raise self._busy()
        worker = await self._acquire(gone)
        if worker is None:
            return None
        answered = self._loop.create_future()
        worker.unwatch = self._on_readable(worker.conn, lambda: answered.done() or answered.set_result(None))
        settled = False
        try:
            worker.conn.send((job, data))
            started = self._loop.time()
            if not known:
                await asyncio.wait([answered, gone], timeout=self.long, return_when=asyncio.FIRST_COMPLETED)
            if not answered.done() and not gone.done():
                self._remember(key)
                if self._long >= self.long_jobs:
                    raise self._busy()
                worker.long = True
                self._long += 1  # until its worker has ended
                self._lower_priority(worker)
                self._replace()
                await asyncio.wait([answered, gone], timeout=self.budget - (self._loop.time() - started),
                                   return_when=asyncio.FIRST_COMPLETED)
            if answered.done():
                self._unwatch(worker)
                status, body, stop = worker.conn.recv()
                settled = True
                if known and self._loop.time() - started < self.long:
                    self._recent.pop(key, None)  # quick after all
                self._kill(worker) if stop else self._release(worker)
                return status, body
            if gone.done():
                return None
            raise BadRequest(422, f"this request needs more than {self.budget:g} s of work: ask for fewer or simpler "
                                  "schedules, fewer steps or points")
        except (EOFError, OSError):
            raise BadRequest(500, "the explorer's worker process stopped unexpectedly") from None
        finally:
            if not settled:
                self._kill(worker)

    def _busy(self) -> BadRequest:
        return BadRequest(503, f"the explorer is busy with {self._long} other long requests; "
                               "try again when they are done")

    def _remember(self, key: bytes | None) -> None:
        """Note that the request ``key`` ran long (the last _RECENT_COUNT of them, for _RECENT_S)."""
        if key is not None:
            self._recent.pop(key, None)
            self._recent[key] = self._loop.time() + _RECENT_S
            while len(self._recent) > _RECENT_COUNT:
                self._recent.popitem(last=False)

    def _known_long(self, key: bytes) -> bool:
        until = self._recent.get(key)
        if until is not None and until < self._loop.time():
            del self._recent[key]
            until = None
        return until is not None

    def _lower_priority(self, worker: _Worker) -> None:
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, worker.pid, _LONG_NICE)



def _key(job: str, body: bytes) -> bytes:
    """What tells one request from another: its job and body, hashed."""
    return hashlib.blake2b(job.encode() + b"\0" + body, digest_size=16).digest()


async def _gone(receive) -> None:
    """Returns when the client has gone (to be called once the body is read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def _error(error: BadRequest) -> JSONResponse:
    headers = dict(_HEADERS)
    if error.status in (408, 413):
        headers["Connection"] = "close"  # what is left of the body is not read
    if error.status == 503:
        headers["Retry-After"] = "1"
    return JSONResponse({"error": str(error)}, status_code=error.status, headers=headers)


def _endpoint(pool: Pool, job: str):
    """``POST /api/<job>``: the request's JSON, answered by a worker of ``pool``."""
    async def endpoint(request):
        try:
            data, body = await _json_body(request)
        except BadRequest as error:
            return _error(error)
        except ClientDisconnect:
            return Response(status_code=204)  # nobody reads it
        gone = asyncio.ensure_future(_gone(request.receive))
        try:
            answer = await pool.run(job, data, gone, _key(job, body))
        except BadRequest as error:
            return _error(error)
        finally:
            gone.cancel()
        if answer is None:
            return Response(status_code=204)  # nobody reads it
        status, content = answer
        return Response(content, status_code=status, media_type="application/json", headers=_HEADERS)
    return endpoint


_KINDS: list[bytes] = []
_KINDS_LOCK = threading.Lock()


def _kinds() -> bytes:
    """``GET /api/kinds``'s JSON, computed once, in a child process: what the kinds' examples
    import stays out of the server."""
    with _KINDS_LOCK:
        if not _KINDS:
            code = (f"import sys; sys.path[:] = {sys.path!r}; import json; from lrdecay.explore import api; "
                    "sys.stdout.write(json.dumps({'kinds': api.kinds()}))")
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300, check=False,
                                  stdin=subprocess.DEVNULL)
            if done.returncode != 0:
                last = (done.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
                raise BadRequest(500, f"the explorer cannot list the kinds: {last}")
            _KINDS.append(done.stdout)
        return _KINDS[0]


def _prefetch_kinds() -> None:
    with contextlib.suppress(BadRequest):  # said when the page asks
        _kinds()


async def _kinds_endpoint(request):
    try:
        return Response(await run_in_threadpool(_kinds), media_type="application/json", headers=_HEADERS)
    except BadRequest as error:
        return _error(error)


async def _page(request):
    return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)


def create_app(port: int, pool: Pool | None = None) -> LocalOnly:
    """The explorer as an ASGI app that answers only requests addressed to 127.0.0.1:``port``
    (or localhost:``port``) from its own page; its jobs run in ``pool`` (a new one by default,
    started on the first request; ``app.pool``)."""
    pool = pool if pool is not None else Pool()
    app = LocalOnly(Starlette(routes=[
        Route("/", _page),
        Route("/api/kinds", _kinds_endpoint),
        *(Route(f"/api/{job}", _endpoint(pool, job), methods=["POST"]) for job in JOBS),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]), port)
    app.pool = pool
    return app


def _protocol():
    """uvicorn's HTTP/1.1 protocol, with a deadline for each request's headers and at most
    ``MAX_CONNECTIONS`` connections open."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Protocol(H11Protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._deadline = None
            self._arm()
            if len(self.connections) > MAX_CONNECTIONS:
                waiting = [c for c in self.connections if c is not self and c._waiting()]
                oldest = min(waiting, key=lambda c: c._since, default=self)
                oldest._refuse(503, f"more than {MAX_CONNECTIONS} connections are open", always=oldest is self)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            """Give the next request HEADER_TIMEOUT seconds to send its headers."""
            if self._deadline is not None:
                self._deadline.cancel()
            self._awaited, self._since = self.cycle, self.loop.time()
            self._deadline = self.loop.call_later(HEADER_TIMEOUT, self._late)

        def _waiting(self) -> bool:
            """No request started since the last answer (or since the connection opened)."""
            return self.cycle is self._awaited and (self.cycle is None or self.cycle.response_complete)

        def _late(self) -> None:
            if self._waiting():
                self._refuse(408, f"the request's headers did not arrive within {HEADER_TIMEOUT:g} s")

        def _refuse(self, status: int, message: str, always: bool = False) -> None:
            """Close the connection, with a JSON error when a request has begun to arrive."""
            if self.transport.is_closing():
                return
            if always or self.conn.trailing_data[0]:
                body = _error_json(message)
                reason = {408: "Request Timeout", 503: "Service Unavailable"}[status]
                self.transport.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                                     f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
            self.transport.close()

    return Protocol


def config(app) -> uvicorn.Config:
    """The uvicorn configuration ``serve`` runs ``app`` with (the connection limits above)."""
    import uvicorn

    return uvicorn.Config(app, http=_protocol(), lifespan="off", log_level="warning",
                          timeout_keep_alive=int(HEADER_TIMEOUT), h11_max_incomplete_event_size=MAX_HEADERS)


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
        sock.listen(1024)
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
          open_browser: bool = True, announce=print, warn=None) -> None:
    """Run the explorer until interrupted; open the page in the browser unless told not to.
    ``warn`` (default: a line on stderr) says when ``DEFAULT_PORT`` was taken. Raises OSError
    when it can't listen, RuntimeError when its worker processes can't start."""
    import uvicorn

    sock = bind(port)
    actual = sock.getsockname()[1]
    if port is None and actual != DEFAULT_PORT:
        (warn or (lambda line: print(line, file=sys.stderr)))(
            f"lrdecay explorer: port {DEFAULT_PORT} is taken, so it listens on port {actual}")
    url = page_url(actual, specs, steps, log)
    app = create_app(actual)
    try:
        try:
            app.pool.start()
        except OSError as error:
            raise RuntimeError(f"the explorer cannot start its worker processes: {error}") from None
        threading.Thread(target=_prefetch_kinds, daemon=True).start()  # the page asks at once
        server = uvicorn.Server(config(app))
        announce(f"lrdecay explorer: {url}  (Ctrl+C stops it)")
        if open_browser:
            threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
        server.run(sockets=[sock])
    finally:
        app.pool.close()
        sock.close()


def _open_when_started(server, url: str) -> None:
    import time

    for _ in range(200):
        if server.started:
            webbrowser.open(url)
            return
        time.sleep(0.05)
