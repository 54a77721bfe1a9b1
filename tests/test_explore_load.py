"""The explorer under hostile load, served as ``lrdecay explore`` serves it (its own process, on
loopback): YAML anchor bombs, checks over 2**53 steps, clients that leave, slow partial
requests and duplicate Origin headers, interleaved with the page's ordinary requests. Every
ordinary request is answered within ``ORDINARY_S``, every hostile one within its budget, and the
server with its workers stays under ``MEMORY_MB``. Linux only (it reads /proc)."""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
if not Path("/proc/self/stat").exists():
    pytest.skip("measures processes through /proc (Linux)", allow_module_level=True)

from lrdecay.explore import server  # noqa: E402

#: An ordinary request is answered within this many seconds, whatever else runs.
ORDINARY_S = 0.5
#: The server process and its workers stay under this many MB (resident, summed).
MEMORY_MB = 300
#: Seconds the load test runs (after BASELINE_S seconds of ordinary requests alone).
LOAD_S = 20
BASELINE_S = 4
#: What a hostile request may take beyond its budget (a wait for a worker, the answer's way back).
SLACK_S = 1.0
ORDINARY = [
    "warmup(cosine_decay(0.1, 9000), steps=1000)",
    "exponential_decay(0.1, decay_steps=20, decay_rate=0.8, staircase=True)",
    "0.5 * piecewise_constant(boundaries=[30, 60], values=[0.1, 0.05, 0.01]).clip(min=0.02)",
]
HEAVY_CHECK = {"specs": ["noisy_linear_cosine_decay(0.1, 1000)"] * 8, "steps": 2**53}


def anchor_bomb(levels: int = 12) -> str:
    """A YAML spec of ~450 bytes whose anchors make a schedule of 2**levels nodes."""
    text = "&a0 {kind: constant, value: 0.1}"
    for i in range(1, levels):
        text = f"&a{i} {{kind: add, left: {text}, right: *a{i - 1}}}"
    return f"kind: add\nleft: {text}\nright: *a{levels - 1}\n"


BOMBS = {"specs": [anchor_bomb()] * 8}  # 3.7 KB: minutes of work for the server as it was


# -- processes -----------------------------------------------------------------------------------

def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(int(_stat(int(entry))[1]), []).append(int(entry))
            except (OSError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def memory_mb(pids: list[int], proportional: bool = False) -> float:
    """Resident MB of ``pids``, summed; ``proportional``: with shared pages split between their
    users (PSS, slower to read)."""
    total = 0
    for p in pids:
        try:
            if proportional:
                with open(f"/proc/{p}/smaps_rollup") as file:
                    total += next(int(line.split()[1]) for line in file if line.startswith("Pss:")) * 1024
            else:
                with open(f"/proc/{p}/statm") as file:
                    total += int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, StopIteration, IndexError):
            pass
    return total / 2**20


def cpu_s(pid: int, reaped: bool = False) -> float:
    """CPU seconds used so far by the processes of ``pid``'s tree still running (``reaped``: and
    by those that ended)."""
    ticks = 0
    for p in tree(pid):
        try:
            fields = _stat(p)
            ticks += sum(int(f) for f in fields[11:15 if reaped else 13])
        except (OSError, IndexError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid: int, seconds: float = 1.0) -> float:
    """CPU seconds ``pid``'s tree uses over the next ``seconds``."""
    before = cpu_s(pid)
    time.sleep(seconds)
    return cpu_s(pid) - before


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    """``lrdecay explore`` in its own process: ``(pid, host, port)``; when it stops, its workers
    stop with it."""
    log = tmp_path_factory.mktemp("explorer") / "stderr.txt"
    with open(log, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "lrdecay", "explore", "--no-browser", "--port", "0"],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("lrdecay explorer: http://127.0.0.1:"), line + log.read_text()
        port = int(line.split()[2].rsplit(":", 1)[1].strip("/"))
        status, _, _ = call((process.pid, "127.0.0.1", port), "/api/kinds", timeout=120)  # as the page does
        assert status == 200
        yield process.pid, "127.0.0.1", port
        processes = tree(process.pid)
        assert len(processes) >= 2 + server.WORKERS  # the server, the process workers fork from, workers
    finally:
        process.terminate()
        process.wait(20)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() and _stat(p)[0] != "Z" for p in processes[1:]):
        assert time.monotonic() < deadline, "the workers outlived the server"
        time.sleep(0.1)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def call(explorer, path: str, body=None, *, headers=(), timeout: float = 30.0):
    """``(status, answer, seconds)``; ``headers`` as pairs, so that one may come twice."""
    _, host, port = explorer
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    started = time.perf_counter()
    try:
        data = None if body is None else json.dumps(body).encode()
        connection.putrequest("GET" if body is None else "POST", path, skip_accept_encoding=True)
        for name, value in [*headers, *([("Content-Type", "application/json")] if body is not None else [])]:
            connection.putheader(name, value)
        if data is not None:
            connection.putheader("Content-Length", str(len(data)))
        connection.endheaders(data)
        response = connection.getresponse()
        payload = response.read()
        answer = json.loads(payload) if response.getheader("content-type", "").startswith("application/json") else payload
        return response.status, answer, time.perf_counter() - started
    finally:
        connection.close()


def partial(explorer, text: bytes) -> socket.socket:
    """A connection that has sent ``text`` and nothing more."""
    _, host, port = explorer
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(text)
    sock.setblocking(False)
    return sock


def closed_by_server(sockets: list[socket.socket], within: float) -> tuple[list[bytes], list[socket.socket]]:
    """What the server sent on each of ``sockets`` before closing them (``within`` seconds), and
    those still open then."""
    received = dict.fromkeys(sockets, b"")
    open_ = set(sockets)
    deadline = time.monotonic() + within
    while open_ and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_), [], [], 0.1)
        for sock in readable:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                chunk = b""
            received[sock] += chunk
            if not chunk:
                open_.discard(sock)
    return [received[s] for s in sockets if s not in open_], list(open_)


# -- each hostile class alone --------------------------------------------------------------------

def test_an_anchor_bomb_is_stopped_at_its_budget_and_its_work_ends(explorer):
    pid = explorer[0]
    status, answer, seconds = call(explorer, "/api/curve", BOMBS, timeout=server.BUDGET + 10)
    assert status == 422 and f"more than {server.BUDGET:g} s of work" in answer["error"]
    assert seconds < server.BUDGET + SLACK_S
    time.sleep(0.3)
    assert idle_cpu(pid) < 0.2  # the worker was killed: nothing keeps computing
    status, answer, seconds = call(explorer, "/api/curve", {"specs": ORDINARY})
    assert status == 200 and all(s["ok"] for s in answer["series"]) and seconds < ORDINARY_S


def test_the_work_stops_when_the_client_leaves(explorer):
    pid = explorer[0]
    sock = socket.create_connection(explorer[1:], timeout=5)
    body = json.dumps(BOMBS).encode()
    sock.sendall(b"POST /api/curve HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (explorer[2], len(body), body))
    time.sleep(0.3)
    busy = idle_cpu(pid, 1.0)
    sock.close()
    time.sleep(0.5)
    assert busy > 0.1  # it was working on it (at a low priority: it is a long job)
    assert idle_cpu(pid) < 0.2  # and stopped once the client had gone


def test_a_heavy_check_does_not_hold_up_ordinary_ones(explorer):
    results = {}
    heavy = threading.Thread(target=lambda: results.setdefault("heavy", call(explorer, "/api/check", HEAVY_CHECK)))
    heavy.start()
    time.sleep(0.3)
    for _ in range(5):
        status, answer, seconds = call(explorer, "/api/check", {"specs": ORDINARY, "steps": 5000})
        assert status == 200 and all(r["ok"] for r in answer["results"])
        assert seconds < ORDINARY_S, seconds
    heavy.join(30)
    status, answer, seconds = results["heavy"]
    assert status == 422 and ("s of work" in answer["error"] or "MiB of memory" in answer["error"])
    assert seconds < server.BUDGET + SLACK_S


def test_partial_requests_are_timed_out_and_do_not_crowd_out_the_page(explorer):
    port = explorer[2]
    head = b"POST /api/curve HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port
    slow_body = head + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"specs\": "
    sockets = ([partial(explorer, b"") for _ in range(30)]
               + [partial(explorer, head) for _ in range(server.MAX_CONNECTIONS)]
               + [partial(explorer, slow_body) for _ in range(20)])
    started = time.monotonic()
    status, _, seconds = call(explorer, "/api/curve", {"specs": ORDINARY})
    assert status == 200 and seconds < ORDINARY_S
    said, still_open = closed_by_server(sockets, max(server.HEADER_TIMEOUT, server.BODY_TIMEOUT) + 2)
    assert not still_open, f"{len(still_open)} partial requests still open after {time.monotonic() - started:.1f} s"
    assert any(b" 408 " in text and b"did not arrive within" in text for text in said)
    for sock in sockets:
        sock.close()


def test_headers_larger_than_the_limit_are_refused(explorer):
    status, answer, _ = call(explorer, "/api/kinds", headers=[("X-Padding", "x" * (server.MAX_HEADERS + 1))])
    assert status == 431 and f"larger than {server.MAX_HEADERS} bytes" in answer["error"]
    sock = partial(explorer, b"GET /api/kinds HTTP/1.1\r\nX-Padding: " + b"x" * (server.MAX_HEADERS + 100))
    said, still_open = closed_by_server([sock], 5)  # headers arriving bit by bit: the same limit
    assert not still_open and said[0].startswith(b"HTTP/1.1 4")
    sock.close()


# -- all of them together ------------------------------------------------------------------------

def test_ordinary_requests_are_answered_under_hostile_load(explorer):
    """LOAD_S seconds of every hostile class at once, with two clients behaving as the page
    (first alone for BASELINE_S seconds, to tell the machine's own delays)."""
    pid, _, port = explorer
    own = f"http://127.0.0.1:{port}"
    stop = time.monotonic() + BASELINE_S
    ordinary: list[tuple[str, int, float]] = []
    hostile: list[tuple[str, int, float, str]] = []
    peak = {"rss": 0.0, "pss": 0.0}
    partials = {"opened": 0, "late": 0}
    failures: list[str] = []

    def guard(function):
        def run():
            try:
                function()
            except Exception as error:  # noqa: BLE001 - reported by the test
                failures.append(f"{function.__name__}: {type(error).__name__}: {error}")
        return run

    def page():
        n = 0
        while time.monotonic() < stop:
            n += 1
            for path, body in [("/api/curve", {"specs": ORDINARY[: 1 + n % 3]}),
                               ("/api/check", {"specs": ORDINARY[: 1 + n % 3]}),
                               ("/api/curve", {"specs": ORDINARY, "start": 900, "stop": 1100, "points": 4000})]:
                status, answer, seconds = call(explorer, path, body, headers=[("Origin", own)])
                ordinary.append((path, status, seconds))
                if status != 200:
                    failures.append(f"ordinary {path}: {status} {answer}")
            if n % 5 == 0:
                status, _, seconds = call(explorer, "/api/kinds")
                ordinary.append(("/api/kinds", status, seconds))
            time.sleep(0.05)

    def bombs():
        while time.monotonic() < stop:
            status, answer, seconds = call(explorer, "/api/curve", BOMBS)
            hostile.append(("bombs", status, seconds, answer.get("error", "")))

    def heavy_checks():
        while time.monotonic() < stop:
            status, answer, seconds = call(explorer, "/api/check", HEAVY_CHECK)
            hostile.append(("heavy check", status, seconds, answer.get("error", "")))

    def leavers():
        body = json.dumps(BOMBS).encode()
        while time.monotonic() < stop:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"POST /api/curve HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (port, len(body), body))
            time.sleep(0.4)
            sock.close()
            time.sleep(0.6)

    def duplicate_origins():
        while time.monotonic() < stop:
            status, answer, seconds = call(explorer, "/api/curve", {"specs": ORDINARY},
                                           headers=[("Origin", "http://evil.example"), ("Origin", own)])
            hostile.append(("two Origin headers", status, seconds, answer.get("error", "")))
            if status != 400:
                failures.append(f"two Origin headers: {status}")
            time.sleep(0.1)

    def slow_partials():
        head = b"POST /api/curve HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port
        opened: dict[socket.socket, float] = {}
        while time.monotonic() < stop:
            while len(opened) < 40:
                text = head if len(opened) % 2 else head + b"Content-Type: application/json\r\nContent-Length: 999\r\n\r\n{"
                opened[partial(explorer, text)] = time.monotonic()
                partials["opened"] += 1
            readable, _, _ = select.select(list(opened), [], [], 0.2)
            for sock in readable:
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    chunk = b""
                if not chunk:
                    if time.monotonic() - opened.pop(sock) > max(server.HEADER_TIMEOUT, server.BODY_TIMEOUT) + 2:
                        partials["late"] += 1
                    sock.close()
            for sock in list(opened):  # a byte now and then: still "sending"
                try:
                    sock.send(b" ")
                except OSError:
                    pass
        for sock in opened:
            sock.close()

    def sample():
        n = 0
        while time.monotonic() < stop + 0.5:
            if n % 5 == 0:
                pids = tree(pid)  # reading all of /proc: not at every sample
            peak["rss"] = max(peak["rss"], memory_mb(pids))
            if n % 10 == 0:
                peak["pss"] = max(peak["pss"], memory_mb(pids, proportional=True))
            n += 1
            time.sleep(0.1)

    alone = [threading.Thread(target=guard(page)) for _ in range(2)]
    for thread in alone:
        thread.start()
    for thread in alone:
        thread.join(BASELINE_S + 30)
    baseline = sorted(seconds for _, _, seconds in ordinary)
    ordinary.clear()

    stop = time.monotonic() + LOAD_S
    cpu_before, load_before, client_before = cpu_s(pid, reaped=True), os.getloadavg()[0], time.process_time()
    threads = [threading.Thread(target=guard(f)) for f in
               (page, page, bombs, heavy_checks, leavers, duplicate_origins, slow_partials, sample)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_S + 60)
    cpu_used, load_after = cpu_s(pid, reaped=True) - cpu_before, os.getloadavg()[0]
    client_cpu = time.process_time() - client_before
    time.sleep(0.5)
    leftover = idle_cpu(pid)

    latencies = sorted(seconds for _, _, seconds in ordinary)
    report = {
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "alone_p50_s": round(baseline[len(baseline) // 2], 3), "alone_max_s": round(baseline[-1], 3),
        "ordinary": len(ordinary), "ordinary_max_s": round(latencies[-1], 3),
        "ordinary_p50_s": round(latencies[len(latencies) // 2], 3),
        "ordinary_p99_s": round(latencies[int(len(latencies) * 0.99)], 3),
        "hostile": len(hostile), "hostile_max_s": round(max(s for _, _, s, _ in hostile), 3),
        "hostile_statuses": sorted({(kind, status) for kind, status, _, _ in hostile}),
        "partial_connections": partials["opened"], "peak_rss_mb": round(peak["rss"]), "peak_pss_mb": round(peak["pss"]),
        "server_cpu_s": round(cpu_used, 1), "client_cpu_s": round(client_cpu, 1), "cpu_after_s": round(leftover, 2),
    }
    print("\nexplorer under load:", json.dumps(report))
    assert not failures, failures[:5]
    assert len(ordinary) > 50 and len(hostile) > 20
    slow = [(path, round(s, 3)) for path, _, s in ordinary if s >= ORDINARY_S]
    assert not slow, f"{len(slow)} of {len(ordinary)} ordinary requests took {ORDINARY_S} s or more: {slow[:10]}"
    late = [(kind, round(s, 3)) for kind, _, s, _ in hostile if s > server.BUDGET + SLACK_S]
    assert not late, f"hostile requests past their budget: {late[:10]}"
    assert {status for kind, status, _, _ in hostile if kind != "two Origin headers"} <= {422, 503}
    assert partials["late"] == 0 and partials["opened"] > 40
    # the workers are forked from one process that imported the library (SciPy included, for
    # /api/forecast): their pages are shared, so the memory they take together is their PSS (each
    # shared page counted once); the RSS sum counts it once per process
    assert peak["pss"] < MEMORY_MB, report
    assert leftover < 0.2  # nothing runs on once its request is over
