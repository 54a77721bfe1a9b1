"""What ``parse`` and ``load`` refuse (tracker issue 17): a keyword given twice, or positionally
and by name, as Python refuses it; anything but a regular file (a device, a FIFO, a directory, a
symlink to one), without hanging, and never more than the size limit plus one byte read."""

import os
import threading

import pytest

import lrdecay
from lrdecay import SpecError
from lrdecay.core.spec import MAX_TEXT


@pytest.mark.parametrize("text, where, message", [
    ("cosine_decay(0.1, decay_steps=10, decay_steps=5)", "line 1, column 35", "keyword argument 'decay_steps' is given twice"),
    ("cosine_decay(0.1, 10, alpha=0.1, alpha=0.2)", "line 1, column 34", "keyword argument 'alpha' is given twice"),
    ("cosine_decay(0.1, 10).clip(min=0.0, min=0.01)", "line 1, column 37", "keyword argument 'min' is given twice"),
    ("warmup(cosine_decay(0.1, 10, alpha=0, alpha=1), 5)", "line 1, column 39", "keyword argument 'alpha' is given twice"),
    ("cosine_decay(0.1, 10, decay_steps=5)", "line 1, column 35",
     r"cosine_decay got two values for 'decay_steps' \(positionally and as a keyword\)"),
    ("cosine_decay(0.1, 10).clip(0.0, min=0.01)", "line 1, column 1", "multiple values for argument 'min'"),
])
def test_a_parameter_given_twice_is_refused(text, where, message):
    with pytest.raises(SpecError, match=f"^{where}: .*{message}"):
        lrdecay.parse(text)


def test_python_refuses_the_same_calls():
    with pytest.raises(SyntaxError, match="keyword argument repeated"):
        compile("f(0.1, decay_steps=10, decay_steps=5)", "<spec>", "eval")


def _load_within(path, seconds=10.0):
    """``load(path)``'s error, or a failure if it takes longer than ``seconds``."""
    outcome = {}

    def run():
        try:
            lrdecay.load(path)
            outcome["error"] = None
        except Exception as error:  # noqa: BLE001 - reported below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"load({path}) still running after {seconds} s"
    return outcome["error"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero and /dev/urandom")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused(device):
    error = _load_within(device)
    assert isinstance(error, SpecError) and "cannot read (not a regular file: a device)" in str(error), error


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_without_a_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    error = _load_within(fifo)
    assert isinstance(error, SpecError) and "cannot read (not a regular file: a FIFO)" in str(error), error


def test_a_directory_is_refused(tmp_path):
    error = _load_within(tmp_path)
    assert isinstance(error, SpecError) and "cannot read (not a regular file: a directory)" in str(error), error


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_symlink_is_followed_to_what_it_names(tmp_path):
    link = tmp_path / "spec.json"
    link.symlink_to("/dev/zero")
    error = _load_within(link)
    assert isinstance(error, SpecError), error
    assert "cannot read (not a regular file: a device at /dev/zero)" in str(error), error
    target = tmp_path / "real.json"
    target.write_text('{"kind": "constant", "value": 0.5}')
    good = tmp_path / "good.json"
    good.symlink_to(target)
    assert lrdecay.load(good) == lrdecay.constant(0.5)


def test_a_large_file_is_read_no_further_than_the_limit(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_bytes(b" " * (MAX_TEXT * 10 * 5))
    read = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: read.append(n) or real_read(fd, n))
    with pytest.raises(SpecError, match=f"larger than {MAX_TEXT * 10} bytes"):
        lrdecay.load(big)
    assert sum(read) <= MAX_TEXT * 10 + 1


def test_a_file_at_the_limit_is_read_whole(tmp_path):
    spec = "constant(0.5)"
    path = tmp_path / "spec.txt"
    path.write_text(spec + " " * (MAX_TEXT * 10 - len(spec)))
    with pytest.raises(SpecError, match="spec is .* characters long"):  # parse's own limit
        lrdecay.load(path)
    path.write_text(spec)
    assert lrdecay.load(path) == lrdecay.constant(0.5)
