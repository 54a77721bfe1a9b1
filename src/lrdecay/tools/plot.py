"""Pictures of schedules: overlaid curves as PNG/SVG/PDF (matplotlib) or in the terminal (plotext).

Files need the optional matplotlib (``pip install 'lrdecay[plot]'``); plotext, for the terminal,
comes with the base install. Both are imported on first use, never by ``import lrdecay``.
matplotlib runs on its Agg backend, so nothing here needs a display.

A curve is just ``schedule(np.arange(steps))``: the same code path that drives training.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lrdecay.core.schedule import Schedule
from lrdecay.core.spec import as_schedule, is_spec

__all__ = [
    "curve", "draw", "plot", "unique_labels", "plot_series", "terminal_plot", "terminal_series", "new_figure", "save",
    "FILE_FORMATS",
]

#: File suffixes ``plot`` can write.
FILE_FORMATS = (".png", ".svg", ".pdf")
#: Curves longer than this are drawn from evenly spaced samples (first and last step included).
MAX_POINTS = 20_000
LABEL_WIDTH = 60
LINE_STYLES = ("-", "--", "-.", ":")
#: Characters that draw the curves in the terminal when there are several (one each, in turn).
TERMINAL_MARKERS = ("•", "+", "x", "o", "*", "#", "=", "~")


def curve(schedule: Schedule, steps: int, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """``(step, value)`` arrays for steps ``0 .. steps - 1`` (sampled down to ``max_points``)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if steps <= max_points:
        x = np.arange(steps, dtype=np.int64)
    else:
        x = np.unique(np.linspace(0, steps - 1, max_points).round().astype(np.int64))
    return x, np.asarray(schedule(x), dtype=np.float64)


def _shorten(text: str, width: int = LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def unique_labels(schedules: Sequence[Schedule], labels: Sequence[str] | None) -> list[str]:
    """The given labels, or each schedule's call syntax; duplicates get a " (2)", " (3)"..."""
    if labels is None:
        labels = [repr(s) for s in schedules]
    labels = list(labels)
    if len(labels) != len(schedules):
        raise ValueError(f"labels: got {len(labels)} labels for {len(schedules)} schedules")
    unique: list[str] = []
    for label in labels:
        candidate, n = label, 1
        while candidate in unique:
            n += 1
            candidate = f"{label} ({n})"
        unique.append(candidate)
    return unique


def _as_list(schedules) -> list[Schedule]:
    """One schedule or spec, or a list of them (see :func:`lrdecay.as_schedule`)."""
    if is_spec(schedules):
        return [as_schedule(schedules, "schedules")]
    if not isinstance(schedules, (list, tuple)):
        raise TypeError(f"schedules: expected an lrdecay schedule, a spec or a list of them, "
                        f"got {type(schedules).__name__}")
    if not schedules:
        raise ValueError("schedules: give at least one schedule")
    return [as_schedule(s, f"schedules[{i}]") for i, s in enumerate(schedules)]


def draw(ax, schedules, steps: int, *, labels=None, log: bool = False, title: str | None = None,
         ylabel: str = "learning rate", **line_kwargs):
    """Draw the curves of ``schedules`` (one or several) on a matplotlib ``ax``; returns ``ax``."""
    schedules = _as_list(schedules)
    for i, (schedule, label) in enumerate(zip(schedules, unique_labels(schedules, labels))):
        x, y = curve(schedule, steps)
        # a rate holds for a whole step: draw steps, not slopes; dashes keep equal curves visible
        ax.plot(x, y, label=_shorten(label), linewidth=1.6, drawstyle="steps-post",
                linestyle=LINE_STYLES[i % len(LINE_STYLES)], **line_kwargs)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, max(steps - 1, 1))
    if log:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return ax


def new_figure(width: float = 8.0, height: float = 4.5, ncols: int = 1, layout: str | None = "constrained"):
    """A matplotlib figure and its axes (``ncols`` side by side) on the Agg backend. ``layout``
    is matplotlib's: ``"constrained"`` fits the labels (at a cost on every save), ``None`` keeps
    fixed margins (set them with ``fig.subplots_adjust``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, ncols, figsize=(width, height), layout=layout)


def save(fig, path, dpi: int = 100) -> Path:
    """Write ``fig`` to ``path`` (format from its suffix; its folder must exist) and close it."""
    import matplotlib
    import matplotlib.pyplot as plt

    path = Path(path)
    # SVG keeps its text as text (searchable, smaller); no date, so regenerated files are stable
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lrdecay"}):
        fig.savefig(path, dpi=dpi, metadata={"Date": None} if path.suffix.lower() == ".svg" else None)
    plt.close(fig)
    return path


def _check_path(path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FILE_FORMATS:
        raise ValueError(f"path must end with one of {', '.join(FILE_FORMATS)}, got {str(path)!r}")
    return path


def plot(schedules, steps: int, path, *, labels=None, log: bool = False, title: str | None = None,
         width: float = 8.0, height: float = 4.5, dpi: int = 100) -> Path:
    """Overlay the curves of one or several schedules over steps ``0 .. steps - 1`` and write the
    figure to ``path`` (``.png``, ``.svg`` or ``.pdf``), ``width x height`` inches at ``dpi``."""
    path = _check_path(path)
    schedules = _as_list(schedules)
    labels = unique_labels(schedules, labels)
    fig, ax = new_figure(width, height)
    draw(ax, schedules, steps, labels=labels, log=log, title=title)
    return save(fig, path, dpi)


def plot_series(series: dict, path, *, log: bool = False, title: str | None = None,
                width: float = 8.0, height: float = 4.5, dpi: int = 100) -> Path:
    """Like :func:`plot` for given values: ``series`` maps a label to ``(steps, values)``."""
    path = _check_path(path)
    fig, ax = new_figure(width, height)
    for i, (label, (x, y)) in enumerate(series.items()):
        ax.plot(x, y, label=_shorten(label), linewidth=1.6, drawstyle="steps-post",
                linestyle=LINE_STYLES[i % len(LINE_STYLES)])
    ax.set(xlabel="step", ylabel="learning rate", yscale="log" if log else "linear")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small", frameon=False)
    return save(fig, path, dpi)


def terminal_plot(schedules, steps: int, *, labels=None, log: bool = False, title: str | None = None,
                  width: int = 80, height: int = 20, color: bool = False) -> str:
    """The curves drawn with text characters (plotext), as a string ready to print."""
    schedules = _as_list(schedules)
    series = {}
    for schedule, label in zip(schedules, unique_labels(schedules, labels)):
        series[label] = curve(schedule, steps, max_points=4 * width)
    return terminal_series(series, log=log, title=title, width=width, height=height, color=color)


def terminal_series(series: dict, *, log: bool = False, title: str | None = None,
                    width: int = 80, height: int = 20, color: bool = False) -> str:
    """Like :func:`terminal_plot` for given values: ``series`` maps a label to ``(steps, values)``."""
    import plotext

    # the key goes under the plot, never over the curves; several curves get one marker each,
    # so that they stay apart without colour too
    markers = ("hd",) if len(series) == 1 else TERMINAL_MARKERS
    key = "".join(f"\n  {'─' if marker == 'hd' else marker} {label}"
                  for marker, label in zip(itertools.cycle(markers), series))
    figure = plotext.figure
    figure.clear()
    for marker, (x, y) in zip(itertools.cycle(markers), series.values()):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if len(x) > 4 * width:
            keep = np.unique(np.linspace(0, len(x) - 1, 4 * width).round().astype(np.int64))
            x, y = x[keep], y[keep]
        if log:
            x, y = x[y > 0], y[y > 0]
        figure.draw(figure.signal(x.tolist(), y.tolist(), marker=marker).lines())
    if log:
        figure.ruler(axis="y").scale("log")
    figure.title(title or "")
    figure.label("step", axis="x")
    figure.label("learning rate", axis="y")
    figure.plot_size(width, height)
    text = figure.build().string(colorless=not color)
    figure.clear()
    return text.rstrip() + key
