"""The explorer's worker processes (``lrdecay.explore.server.Pool``): answers equal to the
in-process ones, a job past its budget or its memory or whose client has left is stopped by
killing its worker, long jobs make way for short ones and are capped, lost workers are replaced."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from lrdecay.explore import server  # noqa: E402
from lrdecay.explore.server import BadRequest, Pool  # noqa: E402

SPECS = ["warmup(cosine_decay(0.1, 9000), steps=1000)", "exponential_decay(0.1, 20, 0.8, staircase=True)"]
LINUX = Path("/proc/self/stat").exists()


def anchor_bomb(levels: int = 12) -> str:
    text = "&a0 {kind: constant, value: 0.1}"
    for i in range(1, levels):
        text = f"&a{i} {{kind: add, left: {text}, right: *a{i - 1}}}"
    return f"kind: add\nleft: {text}\nright: *a{levels - 1}\n"


BOMBS = {"specs": [anchor_bomb()] * 8}


class Loop:
    """An event loop in a thread, where the pools live (a pool keeps the loop it first ran on)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, pool: Pool, job: str, data, *, leave_after: float | None = None, key: bytes | None = None):
        """``(status, answer, seconds)``, or ``(None, None, seconds)`` when the client left."""
        async def ask():
            gone = asyncio.ensure_future(asyncio.sleep(leave_after) if leave_after is not None else asyncio.Event().wait())
            started = time.perf_counter()
            try:
                answer = await pool.run(job, data, gone, key)
            except BadRequest as error:
                return error.status, {"error": str(error)}, time.perf_counter() - started
            finally:
                gone.cancel()
            if answer is None:
                return None, None, time.perf_counter() - started
            return answer[0], json.loads(answer[1]), time.perf_counter() - started
        return asyncio.run_coroutine_threadsafe(ask(), self.loop).result(120)

    def call(self, function):
        async def call():
            return function()
        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(30)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def loop():
    running = Loop()
    yield running
    running.close()


@pytest.fixture(scope="module")
def pool(loop):
    made = Pool()
    assert loop.run(made, "check", {"specs": SPECS})[0] == 200  # started
    yield made
    loop.call(made.close)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def dies(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def settle(loop, pool, count: int) -> list[int]:
    """The pool's worker pids once it has ``count`` workers again, and no long job."""
    deadline = time.monotonic() + 20
    while True:
        pids, long = loop.call(lambda: ([w.pid for w in pool._workers if not w.long], pool._long))
        if len(pids) == count and all(alive(p) for p in pids) and not long:
            return pids
        assert time.monotonic() < deadline, f"the pool has {len(pids)} workers, not {count}"
        time.sleep(0.05)


def test_answers_are_those_of_the_payload_functions(loop, pool):
    data = {"specs": [*SPECS, "constant(0.1"], "points": 300}
    status, answer, _ = loop.run(pool, "curve", data)
    assert status == 200 and answer == json.loads(json.dumps(server.curve_payload(data)))
    status, answer, _ = loop.run(pool, "check", {"specs": SPECS, "steps": 3000})
    assert status == 200 and answer == json.loads(json.dumps(server.check_payload({"specs": SPECS, "steps": 3000})))


def test_a_bad_request_is_the_workers_message(loop, pool):
    status, answer, _ = loop.run(pool, "curve", {"specs": []})
    assert status == 400 and answer["error"] == "'specs' must hold 1 to 8 specs, got 0"


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_a_job_past_its_budget_is_stopped_by_killing_its_worker(loop, pool):
    before = settle(loop, pool, pool.size)
    status, answer, seconds = loop.run(pool, "curve", BOMBS)
    assert status == 422 and answer["error"].startswith(f"this request needs more than {pool.budget:g} s of work")
    assert pool.budget <= seconds < pool.budget + 0.5
    after = settle(loop, pool, pool.size)
    killed = set(before) - set(after)
    assert len(killed) == 1  # the one that ran it, not the others
    assert dies(killed.pop())


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_a_job_whose_client_leaves_is_stopped(loop, pool):
    before = settle(loop, pool, pool.size)
    status, _, seconds = loop.run(pool, "curve", BOMBS, leave_after=0.5)
    assert status is None and seconds < 0.7
    assert any(dies(p, 2) for p in before)
    settle(loop, pool, pool.size)


def test_long_jobs_make_way_and_are_capped(loop, pool):
    """Three bombs at once: two run to their budget beside the pool, the third is stopped once it
    turns long (503); an ordinary job sent meanwhile is answered at once."""
    settle(loop, pool, pool.size)
    results = []
    threads = [threading.Thread(target=lambda: results.append(loop.run(pool, "curve", BOMBS)))
               for _ in range(server.LONG_JOBS + 1)]
    for thread in threads:
        thread.start()
    time.sleep(pool.long + 0.3)
    for _ in range(3):
        status, answer, seconds = loop.run(pool, "check", {"specs": SPECS})
        assert status == 200 and seconds < 0.5
    for thread in threads:
        thread.join(30)
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [422] * server.LONG_JOBS + [503]
    busy = next(answer for status, answer, _ in results if status == 503)
    assert busy["error"].startswith(f"the explorer is busy with {server.LONG_JOBS} other long requests")
    assert all(seconds < pool.budget + 0.5 for _, _, seconds in results)


def test_a_request_that_ran_long_lately_keeps_out_of_the_way(loop, pool):
    """Sent again, it runs as a long job from the start, or gets 503 at once when the long jobs
    are all running: it no longer holds a worker of the short requests for ``long`` seconds."""
    settle(loop, pool, pool.size)
    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(loop.run(pool, "curve", BOMBS, key=b"bombs%d" % n)))
               for n in range(server.LONG_JOBS)]
    for thread in threads:
        thread.start()
    time.sleep(pool.long + 0.3)
    status, answer, seconds = loop.run(pool, "curve", BOMBS, key=b"bombs0")
    assert status == 503 and pool.long <= seconds < pool.long + 0.1 and "busy" in answer["error"]
    assert loop.call(lambda: len(pool._idle)) == pool.size  # it took no worker
    for thread in threads:
        thread.join(30)
    assert sorted(status for status, _, _ in results) == [422] * server.LONG_JOBS
    settle(loop, pool, pool.size)
    started = time.perf_counter()
    leaving = threading.Thread(target=lambda: results.append(loop.run(pool, "curve", BOMBS, key=b"bombs0")))
    leaving.start()
    time.sleep(0.1)
    assert loop.call(lambda: pool._long) == 1  # long at once
    for _ in range(3):
        assert loop.run(pool, "check", {"specs": SPECS})[0] == 200
    leaving.join(30)
    assert results[-1][0] == 422 and time.perf_counter() - started < pool.budget + 0.5


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_a_worker_lost_while_idle_is_replaced(loop, pool):
    pids = settle(loop, pool, pool.size)
    os.kill(pids[0], signal.SIGKILL)
    assert dies(pids[0])
    after = settle(loop, pool, pool.size)
    assert pids[0] not in after
    status, _, _ = loop.run(pool, "check", {"specs": SPECS})
    assert status == 200


@pytest.mark.skipif(not LINUX, reason="the memory limit is Linux's")
def test_a_job_past_its_memory_is_stopped(loop):
    small = Pool(1, long_jobs=1, memory=16 * 2**20)
    try:
        status, answer, _ = loop.run(small, "check", {"specs": ["exponential_decay(0.1, 1000, 0.5)"], "steps": 2**53})
        assert status == 422 and answer["error"].startswith("this request needs more than 16 MiB of memory")
        status, answer, _ = loop.run(small, "check", {"specs": SPECS})  # a fresh worker answers
        assert status == 200 and all(r["ok"] for r in answer["results"])
    finally:
        loop.call(small.close)


def test_closing_stops_every_process(loop):
    made = Pool(1)
    status, answer, _ = loop.run(made, "check", {"specs": SPECS})
    assert status == 200, answer
    pids = made.pids()
    assert len(pids) == 2  # the process workers are forked from, and the worker
    loop.call(made.close)
    assert not LINUX or all(dies(p, 10) for p in pids), "processes outlived their pool"


def test_spawned_workers_answer_as_forked_ones(loop):
    """Where there is no fork (Windows), workers are spawned."""
    spawned = Pool(1, fork=False)
    try:
        data = {"specs": SPECS, "points": 50}
        status, answer, _ = loop.run(spawned, "curve", data)
        assert status == 200 and answer == json.loads(json.dumps(server.curve_payload(data)))
    finally:
        loop.call(spawned.close)


def test_pool_arguments_are_checked():
    with pytest.raises(ValueError, match="a worker or more"):
        Pool(0)
    with pytest.raises(ValueError, match=r"long \(3\) must be between 0 and the budget \(2\)"):
        Pool(long=3, budget=2)


def test_an_answer_over_its_bound_or_a_failure_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(server, "MAX_ANSWER", 1000)
    status, body, stop = server._answer("curve", {"specs": SPECS})
    assert status == 422 and json.loads(body)["error"].startswith("the answer would be larger than 1000 bytes")
    assert not stop

    def fails(kind):
        def job(data):
            raise kind("boom")
        return job

    monkeypatch.setitem(server.JOBS, "memory", fails(MemoryError))
    monkeypatch.setitem(server.JOBS, "deep", fails(RecursionError))
    monkeypatch.setitem(server.JOBS, "bug", fails(KeyError))
    assert server._answer("memory", {}, memory=2**26)[::2] == (422, True)  # the worker stops after it
    assert json.loads(server._answer("memory", {}, memory=2**26)[1])["error"].startswith(
        "this request needs more than 64 MiB of memory")
    assert server._answer("deep", {})[0] == 422
    status, body, stop = server._answer("bug", {})
    assert status == 500 and json.loads(body)["error"] == "the explorer failed: KeyError: 'boom'" and not stop
