"""Plots are real images: PNG opened with Pillow, SVG parsed as XML; right size, not blank."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

import lrdecay
from lrdecay.tools import plot as plotting

SPECS = ["exponential_decay(0.1, 20, 0.8, staircase=True)", "exponential_decay(0.1, 20, 0.8)"]
SVG = "{http://www.w3.org/2000/svg}"


def schedules():
    return [lrdecay.parse(s) for s in SPECS]


def assert_real_png(path, size):
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == size
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    # not blank: many pixels differ from the background, and there is colour (the curves)
    background = pixels[0, 0]
    assert (np.abs(pixels - background).sum(axis=2) > 60).mean() > 0.01
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert (saturation > 80).sum() > 200


def test_png_has_the_requested_size_and_content(tmp_path):
    path = plotting.plot(schedules(), 100, tmp_path / "out.png", width=6, height=3, dpi=100)
    assert path.exists()
    assert_real_png(path, (600, 300))


def test_log_scale_png(tmp_path):
    path = plotting.plot(schedules(), 500, tmp_path / "log.png", log=True, labels=["stairs", "smooth"], dpi=50)
    assert_real_png(path, (400, 225))


def test_svg_is_xml_with_curves_and_legend(tmp_path):
    path = plotting.plot(schedules(), 100, tmp_path / "out.svg", labels=["staircase", "continuous"],
                         width=8, height=4.5)
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "576pt" and root.get("height") == "324pt"  # 72 pt per inch
    paths = root.findall(f".//{SVG}path")
    assert len(paths) > 20
    texts = {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}
    assert {"staircase", "continuous", "step", "learning rate"} <= texts  # legend and axis labels


def test_many_points_are_sampled(tmp_path):
    x, y = plotting.curve(lrdecay.cosine_decay(0.1, 10**7), 10**7 + 1)
    assert len(x) <= plotting.MAX_POINTS and x[0] == 0 and x[-1] == 10**7
    assert y[-1] == 0.0


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="path must end with"):
        plotting.plot(schedules(), 10, tmp_path / "out.jpg")
    with pytest.raises(ValueError, match="labels"):
        plotting.plot(schedules(), 10, tmp_path / "out.png", labels=["one"])
    with pytest.raises(ValueError, match="steps"):
        plotting.curve(schedules()[0], 0)
    with pytest.raises(TypeError, match="schedules"):
        plotting.plot([lambda t: 0.1], 10, tmp_path / "out.png")
    assert not list(tmp_path.iterdir())


def test_terminal_plot_draws_text():
    text = plotting.terminal_plot(schedules()[:1], 100, labels=["stairs"], width=70, height=16)
    lines = text.splitlines()
    assert 14 <= len(lines) <= 18 and max(map(len, lines)) <= 70
    assert "stairs" in text and "step" in text
    assert "\x1b[" not in text  # no colour codes unless asked
    assert sum(ch in "▀▄▌▐▖▗▘▙▚▛▜▝▞▟█" for ch in text) > 50  # the curve


def test_terminal_key_is_under_the_plot_and_curves_stay_apart():
    text = plotting.terminal_plot(schedules(), 100, labels=["stairs", "smooth"], width=70, height=16)
    lines = text.splitlines()
    canvas = [line for line in lines if line.lstrip(" .0123456789").startswith(("│", "┤"))]
    assert len(canvas) >= 10
    assert not any("stairs" in line or "smooth" in line or "┌" in line[6:] for line in canvas)  # no legend box
    assert lines[-2:] == ["  • stairs", "  + smooth"]  # the key, below the axes
    drawn = "".join(canvas)
    assert drawn.count("•") > 30 and drawn.count("+") > 30  # one marker per curve: apart without colour
    long_labels = plotting.terminal_plot(schedules(), 100, width=60, height=14).splitlines()[-2:]
    assert long_labels == [f"  • {schedules()[0]!r}", f"  + {schedules()[1]!r}"]


def test_same_labels_are_told_apart():
    assert plotting.unique_labels(schedules() * 2, ["a", "b", "a", "a"]) == ["a", "b", "a (2)", "a (3)"]


def test_cli_plot_writes_png_and_svg(tmp_path):
    for name in ("curves.png", "curves.svg"):
        result = subprocess.run(
            [sys.executable, "-m", "lrdecay", "plot", *SPECS, "--steps", "100", "-o", str(tmp_path / name),
             "--labels", "staircase,continuous", "--width", "5", "--height", "4"],
            capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert result.returncode == 0, result.stderr
        assert f"wrote {tmp_path / name}" in result.stderr
    assert_real_png(tmp_path / "curves.png", (500, 400))
    root = ET.parse(tmp_path / "curves.svg").getroot()
    assert root.get("width") == "360pt"
    assert "staircase" in {"".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")}


def test_cli_plot_terminal():
    result = subprocess.run([sys.executable, "-m", "lrdecay", "plot", *SPECS, "--terminal", "--width", "80",
                             "--height", "20", "--log"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) >= 18 and f"  + {SPECS[1]}" in result.stdout


def test_cli_plot_into_a_missing_folder_is_an_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lrdecay", "plot", SPECS[0], "-o", str(tmp_path / "no" / "x.png")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"lrdecay: error: --output {str(tmp_path / 'no' / 'x.png')!r}: the folder {str(tmp_path / 'no')!r} "
        "does not exist (create it first)"]
    assert not (tmp_path / "no").exists()  # no folder made silently
