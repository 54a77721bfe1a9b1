"""A running explorer server (uvicorn in a thread, on a free port of 127.0.0.1) for the API and
browser tests, and plain HTTP requests to it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager


@contextmanager
def running_explorer():
    """Yields the base address, e.g. ``http://127.0.0.1:41234``; stops the server after."""
    import uvicorn

    from lrdecay.explore.server import bind, create_app

    sock = bind(0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(port), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the explorer server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def request(url: str, body=None, *, headers=None, method=None, raw: bytes | None = None):
    """``(status, headers, parsed JSON or text)``; a JSON ``body`` is sent as application/json."""
    data = raw
    all_headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, response_headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, response_headers, payload = error.code, error.headers, error.read()
    text = payload.decode("utf-8")
    if response_headers.get("content-type", "").startswith("application/json"):
        return status, response_headers, json.loads(text)
    return status, response_headers, text
