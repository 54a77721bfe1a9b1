"""The demo report: `lrdecay demo --quick` into a temporary folder; the HTML references only files
that exist, every figure is a real PNG, and the sections the report promises are there."""

import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import lrdecay
from lrdecay.report import digits, html, toy
from lrdecay.report.ema_demo import SHADOWS, follow, oscillating_weight, tensorflow_example
from lrdecay.report.gallery import EXAMPLES, example, span
from lrdecay.report.tensorflow_figures import FIGURES


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids, self.text = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("src", "href"):
            if attrs.get(key):
                self.links.append(attrs[key])

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report(quick_report):
    return quick_report  # one `lrdecay demo --quick` for the session (tests/conftest.py)


def test_demo_prints_where_the_report_is(report):
    out, result = report
    assert result.stdout.strip() == f"report: {(out / 'index.html').resolve()}"
    # the terminal summary, even with --no-progress: every section by name, the figures counted on
    # disk, and the digits table saying what digits and ± are
    stderr = " ".join(result.stderr.split())
    figures = len(list((out / "figures").glob("*.png")))
    assert f"The report has 7 sections and {figures} figures" in stderr
    for heading in ("TensorFlow's decay functions", "Moving average of weights", "Learning-rate range test",
                    "Every schedule", "Training comparison on digits", "Forecasting the loss of a schedule"):
        assert f"- {heading}" in stderr
    assert "scikit-learn's 8x8 images of handwritten digits" in stderr
    assert "mean ± standard deviation over 2 runs per schedule" in stderr
    assert not re.search(r"\b\d+/\d+\b", result.stderr)  # and no progress bar (its "12/72" count)


def test_html_references_only_files_that_exist(report):
    out, _ = report
    parser = Links()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    assert parser.links
    for link in parser.links:
        if link.startswith("#"):
            assert link[1:] in parser.ids, link
            continue
        assert "://" not in link and not link.startswith("/"), link  # relative: the folder can move
        assert (out / link).is_file(), link
    figures = sorted((out / "figures").glob("*.png"))
    assert {f"figures/{f.name}" for f in figures} == {link for link in parser.links if link.endswith(".png")}


def test_figures_are_real_images(report):
    out, _ = report
    for path in (out / "figures").glob("*.png"):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size[0] >= 300 and image.size[1] >= 150
            pixels = np.asarray(image.convert("L"))
        assert pixels.std() > 5, path.name


def test_report_has_its_sections(report):
    out, _ = report
    parser = Links()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    text = " ".join(parser.text)
    assert {"tensorflow-decay", "toy", "ema", "digits", "range-test", "gallery"} <= parser.ids
    assert "steepest (suggestion)" in text and "one_cycle(max_lr=" in text  # the range-test section
    for title in ("staircase vs continuous", "Natural-exponential", "Inverse-time", "Piecewise-constant",
                  "power < 1, = 1, > 1", "with and without cycle", "restarts", "Burn-in"):
        assert title in text, title
    for name in digits.comparison_specs(1000):
        assert name in text
    assert "1.644545" in text  # the blog posts' moving-average printout
    assert "Not available" not in text  # every schedule the report uses exists
    commands = [shlex.split(t) for t in parser.text if t.startswith("lrdecay explore ")]
    assert len(commands) >= 8  # one per decay figure: opens its curves in the explorer
    for words in commands:
        specs = words[2:words.index("--steps")]
        assert specs and all(lrdecay.parse(spec) for spec in specs)
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {f"gallery_{kind}.png" for kind in lrdecay.registry()} <= figures


def test_toy_training_follows_gradient_descent():
    # w <- w - lr * 2 (w + 1), solved in closed form for a constant rate: w_n + 1 = 6 (1 - 2 lr)^n
    for lr in (0.2, 1.05, 0.005):
        run = toy.descend("c", f"constant({lr})")
        expected = 6.0 * (1.0 - 2.0 * lr) ** np.arange(1, toy.STEPS + 1) - 1.0
        np.testing.assert_allclose(run.w, expected, rtol=1e-12, atol=1e-12)
    decayed = toy.descend("e", toy.RUNS["exponential decay 0.1 * 0.99^step"])
    np.testing.assert_allclose(decayed.lr, 0.1 * 0.99 ** np.arange(toy.STEPS), rtol=1e-14)
    w = 5.0
    for i in range(toy.STEPS):
        w -= 0.1 * 0.99**i * 2 * (w + 1)
    assert decayed.w[-1] == pytest.approx(w, rel=1e-12)
    assert abs(toy.descend("l", "constant(1.05)").w[-1]) > 100  # too large: diverges
    assert toy.descend("s", "constant(0.005)").loss[-1] > 10  # too small: crawls


def test_digits_training_learns_and_is_deterministic():
    data = digits.load_data()
    first = digits.train("cosine", "cosine_decay(0.2, 340)", data, epochs=10)
    again = digits.train("cosine", "cosine_decay(0.2, 340)", data, epochs=10)
    assert first.final_accuracy == again.final_accuracy and first.train_loss == again.train_loss
    assert first.final_accuracy > 0.9  # chance is 0.1
    assert first.train_loss[-1] < first.train_loss[0] / 3
    np.testing.assert_allclose(first.lrs, lrdecay.parse("cosine_decay(0.2, 340)")(np.arange(len(first.lrs))))
    plateau = lrdecay.Plateau(factor=0.5, patience=0, sync="none")
    reduced = digits.train("plateau", "constant(0.2)", data, epochs=10, plateau=plateau)
    assert reduced.reductions == plateau.num_reductions >= 1
    rates = set(np.unique(reduced.lrs).tolist())
    assert 0.2 in rates and rates <= {0.2 * 0.5**k for k in range(reduced.reductions + 1)}


def test_every_kind_has_a_curated_example():
    for kind in lrdecay.registry():
        assert kind in EXAMPLES, f"add a representative {kind} to lrdecay/report/gallery.py"
        schedule = example(kind)
        assert schedule is not None and schedule.kind == kind
        values = np.asarray(schedule(np.arange(span(schedule))))
        assert np.isfinite(values).all() and values.max() > 0


def test_moving_average_example_matches_the_blog_posts():
    rows = tensorflow_example()
    shadows = [shadow for *_, shadow in rows]
    # TensorFlow's rule by hand: decay = min(0.99, (1 + n) / (10 + n)); shadow -= (1 - decay) * (shadow - w)
    assert shadows[1] == pytest.approx(0.9, rel=1e-7)
    decay = 101 / 110
    assert shadows[2] == pytest.approx(0.9 - (1 - decay) * (0.9 - 10), rel=1e-6)
    assert f"{shadows[2]:.7f}" == "1.6445453"  # the posts' printout
    for before, after in zip(shadows[2:], shadows[3:]):
        assert after == pytest.approx(before - (1 - decay) * (before - 10), rel=1e-6)


SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def test_gallery_script_draws_every_kind(tmp_path):
    result = subprocess.run([sys.executable, SCRIPTS / "make_gallery.py", "--out", tmp_path],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "gallery.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(images) == sorted(f"gallery/{kind}.png" for kind in lrdecay.registry())
    for image in images:
        with Image.open(tmp_path / image) as png:
            assert png.format == "PNG" and np.asarray(png.convert("L")).std() > 5


def test_schedule_table_has_one_line_per_kind(tmp_path):
    out = tmp_path / "schedules.md"
    result = subprocess.run([sys.executable, SCRIPTS / "make_schedule_table.py", "--out", out],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(lrdecay.registry())
    decay_row = next(row for row in rows if row.startswith("| `exponential_decay` |"))
    assert "tf.compat.v1.train.exponential_decay" in decay_row and "decay_rate ** (t / decay_steps)" in decay_row


JARGON = re.compile(r"\bseeds?\b", re.I)


def test_report_speaks_plainly(report):
    """No internal words for the source documents (nor random seeds: the report says "runs"), no
    literal backticks (they become <code>), and the source is named."""
    out, result = report
    page = (out / "index.html").read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    text = " ".join(parser.text)
    assert not JARGON.search(text), JARGON.search(text)
    assert not JARGON.search(result.stderr)
    assert "`" not in text
    assert "<code>lrdecay show</code>" in page
    assert "blog posts on learning-rate decay (退化学习率)" in text


COLOUR_WORDS = re.compile(r"\b(red|green|blue|orange|purple|grey|gray|brown|pink|olive|cyan)\b", re.I)


def test_captions_name_curves_by_label_not_colour(report):
    # colours are matplotlib's choice; a caption that names one drifts from the figure
    for figure in FIGURES:
        assert not COLOUR_WORDS.search(figure.caption), (figure.slug, figure.caption)
    out, _ = report
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", (out / "index.html").read_text(encoding="utf-8"), re.S)
    assert captions
    for caption in captions:
        assert not COLOUR_WORDS.search(caption), caption


def test_moving_average_figure_shows_every_series_apart():
    weights = oscillating_weight()
    curves = [follow(weights, decay, with_step) for decay, with_step in SHADOWS]
    for i, first in enumerate(curves):
        for second in curves[i + 1:]:
            assert np.abs(first - second).max() > 0.5  # visibly apart on a plot spanning about 10


def test_gallery_axis_says_what_the_value_is(report):
    from lrdecay.report.gallery import value_label

    assert value_label(example("one_cycle_momentum")) == "momentum"
    assert value_label(example("megatron_wd")) == "weight decay"
    assert value_label(example("batch_ramp")) == "global batch size"
    assert value_label(example("cosine_decay")) == "learning rate"
    out, _ = report
    page = (out / "index.html").read_text(encoding="utf-8")
    # each gallery caption says what the curve is (its formula) and what it matches
    assert "<figcaption>left(t) + right (right a number or a schedule)" in page
    assert "same phases as OneCycle. Matches: torch OneCycleLR" in page


def test_inline_code_in_html():
    assert html.paragraph("run `lrdecay show` & <go>") == "<p>run <code>lrdecay show</code> &amp; &lt;go&gt;</p>\n"
    assert html.paragraph("an odd ` stays") == "<p>an odd ` stays</p>\n"
