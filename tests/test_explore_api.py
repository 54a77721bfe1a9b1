"""The explorer's server over plain HTTP: values are the library's, bad specs give the parser's
message with its position, other origins are refused, and the work per request is bounded (the
server under hostile load: ``test_explore_load.py``; its worker processes: ``test_explore_pool.py``)."""

from __future__ import annotations

import http.client
import json
import math
import re
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

import lrdecay  # noqa: E402
from lrdecay.core.spec import SpecError  # noqa: E402
from lrdecay.explore import api  # noqa: E402
from lrdecay.explore.server import MAX_BODY, MAX_SPECS, bind, page_url  # noqa: E402
from lrdecay.explore.snippets import snippets  # noqa: E402
from lrdecay.report.gallery import example  # noqa: E402
from lrdecay.tools.summary import summarize  # noqa: E402
from tests._explorer import request, running_explorer  # noqa: E402

SPECS = [
    "warmup(cosine_decay(0.1, 9000), steps=1000)",
    "exponential_decay(0.1, decay_steps=20, decay_rate=0.8, staircase=True)",
    "0.5 * piecewise_constant(boundaries=[30, 60], values=[0.1, 0.05, 0.01]).clip(min=0.02)",
]


@pytest.fixture(scope="module")
def base():
    with running_explorer() as address:
        yield address


def test_page_and_static_files_are_served(base):
    status, headers, text = request(base + "/")
    assert status == 200 and "<title>lrdecay explorer</title>" in text
    assert "script-src 'self'" in headers["content-security-policy"]  # no CDN, no inline code
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing from elsewhere
    for name in ("explorer.js", "explorer.css"):
        status, headers, body = request(f"{base}/static/{name}")
        assert status == 200 and len(body) > 500
        assert set(re.findall(r"https?://[^\s\"'`]*", body)) <= {"http://www.w3.org/2000/svg"}


def test_curve_values_are_the_library_values(base):
    status, _, answer = request(base + "/api/curve", {"specs": SPECS, "steps": 120, "points": 4000})
    assert status == 200
    assert answer["steps"] == 120 and answer["x"] == list(range(120))
    for spec, series in zip(SPECS, answer["series"]):
        assert series["ok"], series
        expected = lrdecay.parse(spec)(np.arange(120))
        assert series["y"] == expected.tolist()  # exact: the same floats
        assert series["text"] == repr(lrdecay.parse(spec))
        assert lrdecay.from_dict(json.loads(series["json"])) == lrdecay.parse(spec)
        assert lrdecay.parse(series["text"]) == lrdecay.parse(spec)


def test_a_window_far_out_is_sampled_within_the_point_bound(base):
    status, _, answer = request(base + "/api/curve", {
        "specs": ["exponential(0.1, gamma=0.9999999)"], "start": 10**12, "stop": 2**53, "points": 50,
    })
    assert status == 200 and len(answer["x"]) == 50
    assert answer["x"][0] == 10**12 and answer["x"][-1] == 2**53
    expected = lrdecay.exponential(0.1, gamma=0.9999999)(np.array(answer["x"]))
    assert answer["series"][0]["y"] == expected.tolist()


def test_default_training_length_follows_the_longest_schedule(base):
    _, _, answer = request(base + "/api/curve", {"specs": SPECS[:2]})
    assert answer["steps"] == 10001  # warm-up 1000 + cosine 9000, and the end step


def test_json_and_yaml_specs(base):
    schedule = lrdecay.parse(SPECS[0])
    yaml_text = "kind: cosine_decay\nlearning_rate: 0.1\ndecay_steps: 50\n"
    _, _, answer = request(base + "/api/curve", {"specs": [json.dumps(schedule.to_dict()), yaml_text], "steps": 40})
    assert [s["ok"] for s in answer["series"]] == [True, True]
    assert answer["series"][0]["y"] == schedule(np.arange(40)).tolist()
    assert answer["series"][1]["text"] == "cosine_decay(learning_rate=0.1, decay_steps=50)"


@pytest.mark.parametrize("text", [
    "exponential_decay(0.1, decay_steps=0, decay_rate=0.5)",
    "cosine_decay(0.1,, 10)",
    "warmup(cosine_decay(0.1, 100),\n       steps=-5)",
    "cosine_decay(0.1, 100) ** 2",
    "__import__('os').system('true')",
])
def test_bad_specs_give_the_parsers_message_and_position(base, text):
    with pytest.raises(SpecError) as raised:
        lrdecay.parse(text)
    status, _, answer = request(base + "/api/curve", {"specs": [SPECS[0], text]})
    assert status == 200 and answer["series"][0]["ok"]
    error = answer["series"][1]["error"]
    assert answer["series"][1]["ok"] is False
    assert error["message"] == str(raised.value)
    assert f"line {error['line']}, column {error['column']}" in error["message"]
    assert "Traceback" not in json.dumps(answer)


def test_bad_json_spec_has_a_position(base):
    _, _, answer = request(base + "/api/curve", {"specs": ['{"kind": "constant",\n "value": }']})
    error = answer["series"][0]["error"]
    assert (error["line"], error["column"]) == (2, 11) and "invalid JSON" in error["message"]


def test_check_is_the_clis_check(base):
    from typer.testing import CliRunner

    from lrdecay.cli import app

    status, _, answer = request(base + "/api/check", {"specs": [SPECS[0], "constant(0.1"], "steps": 500})
    assert status == 200
    result = CliRunner().invoke(app, ["check", SPECS[0], "--steps", "500", "--format", "json"])
    cli = json.loads(result.stdout)
    assert answer["results"][0]["warnings"] == cli.pop("warnings") and answer["results"][0]["warnings"]
    assert answer["results"][0]["summary"] == cli
    assert answer["results"][1]["ok"] is False and "line 1" in answer["results"][1]["error"]["message"]


def test_kinds_list_every_kind_and_its_form_rebuilds_the_example(base):
    status, _, answer = request(base + "/api/kinds")
    assert status == 200
    listed = {k["kind"]: k for k in answer["kinds"]}
    assert set(listed) == set(lrdecay.registry())
    rebuilt = 0
    for name, kind in listed.items():
        instance = example(name)
        if instance is None or instance.kind != name:
            continue
        # what the page writes from the form: every parameter given, by name
        parts = [f"{f['name']}={f['value'] if f['value'] is not None else 'None'}" for f in kind["fields"]]
        assert lrdecay.parse(f"{name}({', '.join(parts)})") == instance, name
        rebuilt += 1
    assert rebuilt >= 30


ORIGIN_CASES = [  # headers, status of an API call, status of the page
    ({"Origin": "http://evil.example"}, 403, 200),
    ({"Origin": "null"}, 403, 200),
    ({"Host": "evil.example"}, 403, 403),  # DNS rebinding: the right address, another name
    ({"Host": "127.0.0.1:1"}, 403, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403, 200),  # a shared link followed from another site opens
    ({"Sec-Fetch-Site": "same-site"}, 403, 200),
    ({"Sec-Fetch-Site": "same-origin"}, 200, 200),
]


@pytest.mark.parametrize("headers, api_status, page_status", ORIGIN_CASES)
def test_requests_from_other_origins_are_refused(base, headers, api_status, page_status):
    status, _, answer = request(base + "/api/curve", {"specs": ["constant(0.1)"]}, headers=headers)
    assert status == api_status
    if api_status == 403:
        assert "refused" in answer["error"] or "addressed" in answer["error"]
    status, _, _ = request(base + "/api/kinds", headers=headers)
    assert status == api_status
    status, headers_back, _ = request(base + "/", headers=headers)
    assert status == page_status
    if status == 200:
        assert headers_back["x-frame-options"] == "DENY"


@pytest.mark.parametrize("name, values", [
    ("Origin", ["http://evil.example", "{base}"]),  # only the last was checked
    ("Origin", ["{base}", "http://evil.example"]),
    ("Origin", ["{base}", "{base}"]),
    ("Host", ["evil.example", "{host}"]),
    ("Sec-Fetch-Site", ["cross-site", "same-origin"]),
])
def test_a_header_that_comes_twice_is_refused(base, name, values):
    host = base.split("//", 1)[1]
    connection = http.client.HTTPConnection(host, timeout=30)
    try:
        connection.putrequest("GET", "/api/kinds", skip_host=name == "Host")
        for value in values:
            connection.putheader(name, value.format(base=base, host=host))
        connection.endheaders()
        response = connection.getresponse()
        text = response.read().decode()
    finally:
        connection.close()
    assert response.status == 400
    if name == "Host":  # h11 refuses it before the app sees it
        assert text == "Invalid HTTP request received."
    else:
        assert json.loads(text)["error"] == f"a request with more than one {name} header is refused"


def test_headers_over_the_limit_are_refused(base):
    from lrdecay.explore.server import MAX_HEADERS

    status, _, answer = request(base + "/api/kinds", headers={"X-Padding": "x" * MAX_HEADERS})
    assert status == 431 and f"larger than {MAX_HEADERS} bytes" in answer["error"]


def test_own_origin_is_accepted(base):
    port = base.rsplit(":", 1)[1]
    for origin in (base, f"http://localhost:{port}"):
        status, _, _ = request(base + "/api/curve", {"specs": ["constant(0.1)"]}, headers={"Origin": origin})
        assert status == 200


@pytest.mark.parametrize("body, status, words", [
    ({"specs": ["constant(0.1)"] * (MAX_SPECS + 1)}, 400, "1 to 8 specs"),
    ({"specs": []}, 400, "1 to 8 specs"),
    ({"specs": "constant(0.1)"}, 400, "list of spec texts"),
    ({"specs": [3]}, 400, "list of spec texts"),
    ({"specs": ["constant(0.1)"], "points": 10**6}, 400, "'points' must be a whole number from 2 to 4000"),
    ({"specs": ["constant(0.1)"], "points": 1}, 400, "'points'"),
    ({"specs": ["constant(0.1)"], "steps": 2**53 + 1}, 400, "'steps' must be a whole number from 1"),
    ({"specs": ["constant(0.1)"], "steps": 0}, 400, "'steps'"),
    ({"specs": ["constant(0.1)"], "steps": 1.5}, 400, "'steps'"),
    ({"specs": ["constant(0.1)"], "steps": True}, 400, "'steps'"),
    ({"specs": ["constant(0.1)"], "start": 50, "stop": 10}, 400, "'stop' (10) must not be before 'start' (50)"),
    ({"specs": ["constant(0.1)"], "start": -1}, 400, "'start'"),
    ([1, 2], 400, "JSON object"),
])
def test_work_per_request_is_bounded(base, body, status, words):
    got, _, answer = request(base + "/api/curve", body)
    assert got == status and words in answer["error"]


def test_payload_size_and_type_are_bounded(base):
    big = {"specs": ["constant(0.1)" + " " * MAX_BODY]}
    status, _, answer = request(base + "/api/curve", big)
    assert status == 413 and str(MAX_BODY) in answer["error"]
    status, _, answer = request(base + "/api/curve", raw=b"specs=constant(0.1)", method="POST",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415  # what a cross-site form could send
    status, _, answer = request(base + "/api/curve", raw=b"{not json", method="POST",
                                headers={"Content-Type": "application/json"})
    assert status == 400 and "not valid JSON" in answer["error"]
    status, _, _ = request(base + "/api/curve", method="GET")
    assert status == 405


def test_read_spec_refuses_what_is_not_a_spec():
    with pytest.raises(SpecError, match="line 1, column 1: the spec is empty"):
        api.read_spec("  \n ")
    with pytest.raises(SpecError, match="must be text"):
        api.read_spec(None)
    with pytest.raises(SpecError, match=r"^\$: cosine_decay is missing required parameter 'decay_steps'"):
        api.read_spec("kind: cosine_decay\nlearning_rate: 0.1\n")
    with pytest.raises(SpecError, match=r"^YAML: line 3, column 1: invalid YAML"):
        api.read_spec("kind: constant\nvalue: [0.1\n")


def test_training_steps_refuses_bad_lengths():
    assert api.training_steps([lrdecay.exponential(0.1, gamma=0.9)], None) == 100  # unbounded: as `show`
    for bad in (0, -3, 2**53 + 1, 2.0, "10", True):
        with pytest.raises(ValueError, match="steps must be a whole number from 1 to 2\\*\\*53"):
            api.training_steps([], bad)


def test_values_that_overflow_are_null_or_the_librarys_message(base):
    spec = "constant(0.1) / 1e-320 * 1e300"
    _, _, answer = request(base + "/api/curve", {"specs": [spec], "steps": 4})
    series = answer["series"][0]
    try:
        values = lrdecay.parse(spec)(np.arange(4))
    except SpecError as error:  # the library refuses a spec whose value overflows
        assert series["ok"] is False and series["error"]["message"] == str(error)
    except ValueError as error:  # or the value that is not finite
        assert series["ok"] is False and series["error"]["message"] == f"ValueError: {error}"
    else:
        assert series["y"] == [v if math.isfinite(v) else None for v in values.tolist()]


def test_the_exported_pytorch_code_runs_and_gives_the_schedules_values(tmp_path):
    schedule = lrdecay.parse(SPECS[2])
    script = tmp_path / "train.py"
    script.write_text(snippets(schedule)["pytorch"])
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True).stdout
    rows = [line.split() for line in out.strip().splitlines()]
    assert [int(step) for step, _ in rows] == [0, 1, 2, 3, 4]
    assert [float(lr) for _, lr in rows] == [schedule(step) for step in range(5)]


def test_the_exported_optax_and_keras_code_build_the_schedule(capsys):
    pytest.importorskip("optax")
    pytest.importorskip("keras")
    schedule = lrdecay.parse(SPECS[0])
    code = snippets(schedule)
    namespace = {}
    exec(compile(code["optax"], "optax snippet", "exec"), namespace)
    assert namespace["schedule"] == schedule
    state = namespace["optimizer"].init({"w": np.zeros(2, np.float32)})
    assert state is not None
    exec(compile(code["keras"], "keras snippet", "exec"), namespace)
    rate = namespace["optimizer"].learning_rate
    assert math.isclose(float(rate), schedule(0), abs_tol=1e-9)


def test_every_example_kind_has_code_that_builds_it():
    built_by_name = 0
    for name in lrdecay.registry():
        instance = example(name)
        if instance is None:
            continue
        lines = snippets(instance)["pytorch"].splitlines()
        imports, construction = lines[1], lines[4]
        assert construction.startswith("schedule = ")
        namespace = {}
        exec(compile(f"{imports}\n{construction}", name, "exec"), namespace)
        assert namespace["schedule"] == instance, name
        built_by_name += imports.startswith("from lrdecay import ")
    assert built_by_name >= 30  # readable code: the kinds' own names, not parse("...")


def test_snippets_import_the_kinds_they_call_every_kind_being_a_public_name():
    assert all(getattr(lrdecay, kind, None) is cls for kind, cls in lrdecay.registry().items())
    schedule = lrdecay.parse("warmup(cosine_decay(0.1, 100), steps=10)")
    lines = snippets(schedule)["optax"].splitlines()
    assert lines[1] == "from lrdecay import cosine_decay, warmup"
    assert lines[4] == f"schedule = {repr(schedule)}"


def test_bind_and_page_url():
    taken = bind(0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            bind(port)
    finally:
        taken.close()
    url = page_url(8765, ["cosine_decay(0.1, 100)", "constant(0.05)"], steps=200, log=True)
    assert url == ("http://127.0.0.1:8765/?s=cosine_decay%280.1%2C+100%29&s=constant%280.05%29"
                   "&steps=200&log=1")


def test_explore_command_serves_the_page(tmp_path):
    """``lrdecay explore --no-browser --port 0`` prints the address and answers there."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lrdecay", "explore", "constant(0.05)", "--no-browser", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("lrdecay explorer: http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[2]
        assert url.endswith("/?s=constant%28value%3D0.05%29")
        status, _, text = request(url)
        assert status == 200 and "lrdecay explorer" in text
    finally:
        process.terminate()
        process.wait(20)


@pytest.mark.parametrize("args, words", [
    (["explore", "--port", "70000", "--no-browser"], "--port must be between 0 and 65535, got 70000"),
    (["explore", "cosine_decay(0.1,", "--no-browser"], "bad SPEC"),
    (["explore", "--steps", "0", "--no-browser"], "--steps must be between 1 and 2**53, got 0"),
])
def test_explore_command_refuses_bad_arguments(args, words):
    from typer.testing import CliRunner

    from lrdecay.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and words in result.stderr


def test_explore_command_reports_a_taken_port():
    from typer.testing import CliRunner

    from lrdecay.cli import app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        result = CliRunner().invoke(app, ["explore", "--port", str(port), "--no-browser"])
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_the_browser_opens_once_the_server_listens(monkeypatch):
    from types import SimpleNamespace

    from lrdecay.explore import server

    opened = []
    monkeypatch.setattr(server.webbrowser, "open", opened.append)
    server._open_when_started(SimpleNamespace(started=True), "http://127.0.0.1:8765/?s=constant%280.1%29")
    assert opened == ["http://127.0.0.1:8765/?s=constant%280.1%29"]


def test_checks_run_side_by_side_and_all_answer(base):
    from concurrent.futures import ThreadPoolExecutor

    specs = [f"cosine_decay(0.1, decay_steps={n})" for n in (100, 200, 300, 400, 500, 600)]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda s: request(base + "/api/check", {"specs": [s], "steps": 150}), specs))
    for spec, (status, _, answer) in zip(specs, answers):
        assert status == 200
        assert answer["results"][0]["warnings"] == summarize(lrdecay.parse(spec), 150)[1]


def test_a_heavy_check_does_not_make_ordinary_ones_wait(base):
    """A check of 8 schedules over 2**53 steps (360 bytes) is stopped at its budget; ordinary
    checks sent meanwhile are answered at once."""
    from lrdecay.explore.server import BUDGET

    heavy = {"specs": ["noisy_linear_cosine_decay(0.1, 1000)"] * 8, "steps": 2**53}
    assert len(json.dumps(heavy)) < 400
    answers = {}

    def send():
        started = time.perf_counter()
        answers["heavy"] = (*request(base + "/api/check", heavy), time.perf_counter() - started)

    thread = threading.Thread(target=send)
    thread.start()
    time.sleep(0.3)
    for _ in range(3):
        started = time.perf_counter()
        status, _, answer = request(base + "/api/check", {"specs": SPECS[:2], "steps": 5000})
        assert status == 200 and all(r["ok"] for r in answer["results"])
        assert time.perf_counter() - started < 0.5
    thread.join(60)
    status, _, answer, seconds = answers["heavy"]
    assert status == 422 and ("s of work" in answer["error"] or "MiB of memory" in answer["error"])
    assert seconds < BUDGET + 1


def test_an_anchor_bomb_is_stopped_at_the_budget(base):
    """Eight YAML specs whose anchors expand to 4096 nodes each (3.7 KB): 422 within the budget."""
    from lrdecay.explore.server import BUDGET

    text = "&a0 {kind: constant, value: 0.1}"
    for i in range(1, 12):
        text = f"&a{i} {{kind: add, left: {text}, right: *a{i - 1}}}"
    bombs = {"specs": [f"kind: add\nleft: {text}\nright: *a11\n"] * 8}
    assert len(json.dumps(bombs)) < 4000
    started = time.perf_counter()
    status, _, answer = request(base + "/api/curve", bombs)
    assert status == 422 and answer["error"].startswith(f"this request needs more than {BUDGET:g} s of work")
    assert time.perf_counter() - started < BUDGET + 1
    status, _, answer = request(base + "/api/curve", {"specs": SPECS})
    assert status == 200 and all(s["ok"] for s in answer["series"])


def test_a_taken_default_port_is_said_on_stderr():
    from lrdecay.explore.server import DEFAULT_PORT

    with socket.socket() as holder:
        try:
            holder.bind(("127.0.0.1", DEFAULT_PORT))
            holder.listen(1)
        except OSError:
            pass  # taken already: the same case
        process = subprocess.Popen([sys.executable, "-m", "lrdecay", "explore", "--no-browser"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = process.stdout.readline()
            assert line.startswith("lrdecay explorer: http://127.0.0.1:"), line
            port = int(line.split()[2].rsplit(":", 1)[1].strip("/"))
            assert port != DEFAULT_PORT
            ready, _, _ = select.select([process.stderr], [], [], 10)
            assert ready, "nothing said on stderr"
            assert process.stderr.readline() == (f"lrdecay explorer: port {DEFAULT_PORT} is taken, "
                                                 f"so it listens on port {port}\n")
        finally:
            process.terminate()
            process.wait(20)


def test_docs_state_the_real_limits():
    from lrdecay.explore import server

    text = (Path(__file__).resolve().parent.parent / "docs" / "explore.md").read_text(encoding="utf-8")
    assert f"{server.MAX_BODY // 1024} KiB" in text
    assert f"at most {server.MAX_SPECS} schedules on at most {api.MAX_POINTS} steps each" in text
    assert f"default {server.DEFAULT_PORT}" in text
    assert f"{server.BUDGET:g} s of work" in text and f"{server.WORK_MEMORY >> 20} MiB" in text
    assert f"{server.WORKERS} worker processes" in text and f"at most {server.LONG_JOBS} long job" in text
    assert f"at most {server.WORKERS + server.LONG_JOBS} workers" in text
    assert f"after {server.LONG:g} s" in text
    assert f"headers within {server.HEADER_TIMEOUT:g} s" in text and f"body within {server.BODY_TIMEOUT:g} s" in text
    assert f"{server.MAX_HEADERS // 1024} KiB of headers" in text and f"{server.MAX_CONNECTIONS} connections" in text
    assert f"{server.MAX_ANSWER >> 20} MiB" in text


# -- /api/forecast -----------------------------------------------------------------------------

LAW = {"law": "multi_power", "L0": 3.04045406, "A": 0.52468604, "alpha": 0.50786857, "B": 363.78751622,
       "C": 2.06560812, "beta": 0.58279013, "gamma": 0.64142257}  # Luo et al.'s 25M parameters


def test_forecast_predicts_each_schedule_with_the_law():
    from lrdecay.explore.server import FORECAST_POINTS, forecast_payload
    from lrdecay.forecast import MultiPowerLaw

    specs = ["warmup(cosine_annealing(3e-4, 21840, eta_min=3e-5), 2160)", "cosine_decay(",
             "warmup(constant(3e-4), 2160)"]
    answer = forecast_payload({"law": LAW, "specs": specs, "steps": 24000})
    law = MultiPowerLaw(**{k: v for k, v in LAW.items() if k != "law"})
    first, bad, flat = answer["curves"]
    assert len(first["steps"]) == FORECAST_POINTS and first["steps"][-1] == 23999
    expected = law.predict(lrdecay.parse(specs[0]), first["steps"])
    assert first["loss"][0] is None  # before any training the law is infinite: null
    np.testing.assert_allclose(first["loss"][1:], expected[1:], rtol=1e-12)
    assert first["final"] == first["loss"][-1] and 3.0 < first["final"] < 3.5
    assert "line 1" in bad["error"] or "cosine_decay" in bad["error"]
    assert flat["final"] > first["final"] + 0.02  # the same warm-up, no decay: higher, as the law says


@pytest.mark.parametrize("data, message", [
    ({"specs": ["constant(0.1)"], "steps": 100}, "'law' must be a law as JSON"),
    ({"law": {"law": "multi_power", "L0": 1.0}, "specs": ["constant(0.1)"], "steps": 100}, "law: "),
    ({"law": LAW, "specs": ["constant(0.1)"]}, "'steps' (the length of the run) is required"),
    ({"law": LAW, "specs": ["constant(0.1)"], "steps": 10**9}, "'steps' must be a whole number from 2 to 500000"),
])
def test_forecast_bad_requests_say_what_is_wrong(data, message):
    from lrdecay.explore.server import BadRequest, forecast_payload

    with pytest.raises(BadRequest) as error:
        forecast_payload(data)
    assert message in str(error.value) and error.value.status == 400
