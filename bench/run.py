"""Every benchmark of docs/benchmarks.md, in one command:

    python bench/run.py [--repeats 9] [--only scalar curves joins torch import torch_import]

Each section measures lrdecay and its competitors in the same run, interleaved (one repeat of
each in turn, so a slow moment of the machine hits all of them), after checking that they give
the same values. Tables show the median, min and max over the repeats and the ratio
lrdecay / other on the medians (below 1: lrdecay is faster).

- scalar: one call ``s(int)`` against the pure-Python peer lrsched (closures);
- curves: ``s(np.arange(N))`` and ``s.curve(N, dtype=np.float32)`` against the same formula
  hand-written in NumPy, time and peak memory (tracemalloc: every NumPy allocation);
- joins: ``join`` of 2, 20, 200 segments and nested warm-ups, N = 10**6;
- torch: one ``scheduler.step()`` of ScheduleLR against torch's own scheduler;
- import: ``import lrdecay`` against ``import numpy``, fresh interpreters;
- torch_import: ``import torch; import lrdecay.torch`` against ``import torch``, fresh interpreters.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np

import lrdecay

LR, TOTAL, WARMUP, DECAY_STEPS, RATE, FIRST = 0.1, 10**7, 1000, 1000, 0.96, 1000


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    sys.stdout.flush()


def stats(times, scale=1.0, digits=3):
    med = statistics.median(times)
    return med, f"{med * scale:.{digits}g} ({min(times) * scale:.{digits}g}-{max(times) * scale:.{digits}g})"


def interleaved(fns: dict, repeats: int) -> dict:
    """``{name: [seconds per run]}``: every function once per round, ``repeats`` rounds. A
    function that returns a float has timed itself (to leave its set-up out)."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            timed = fn()
            elapsed = time.perf_counter() - start
            times[name].append(timed if isinstance(timed, float) else elapsed)
    return times


# -- scalar calls ---------------------------------------------------------------------------


def scalar_cases():
    """name -> (lrdecay schedule, lrsched schedule, relative tolerance of the value check)."""
    import lrsched

    cosine = lrsched.cosine(base_lr=LR, min_lr=0.0, total_steps=TOTAL)
    return {
        "constant (the cost of a call)": (lrdecay.constant(LR), lrsched.constant(lr=LR), 0.0),
        "cosine": (lrdecay.cosine_decay(LR, TOTAL), cosine, 1e-12),
        "exponential staircase": (lrdecay.exponential_decay(LR, DECAY_STEPS, RATE, staircase=True),
                                  lrsched.step_decay(base_lr=LR, drop=RATE, step_size=DECAY_STEPS), 1e-12),
        "warmup + cosine": (lrdecay.warmup(lrdecay.cosine_decay(LR, TOTAL), WARMUP),
                            lrsched.with_warmup(cosine, warmup_steps=WARMUP, start_lr=0.0), 1e-12),
        "sgdr (restarts, t_mul=2)": (lrdecay.cosine_decay_restarts(LR, FIRST),
                                     lrsched.cosine_restarts(base_lr=LR, min_lr=0.0, period=FIRST, t_mult=2), 1e-9),
        # lrsched's peak is at round(pct * total), PyTorch's (ours) at pct * total - 1: 1e-6 apart
        "one_cycle": (lrdecay.one_cycle(LR, TOTAL),
                      lrsched.one_cycle(max_lr=LR, total_steps=TOTAL, pct_start=0.3, initial_div=25.0,
                                        final_div=25e4), 1e-5),
        "join of 3 (ramp, hold, cosine)": (
            lrdecay.sequence(lrdecay.linear(0.0, LR, WARMUP), lrdecay.linear(LR, LR, 10 * WARMUP),
                             lrdecay.cosine_decay(LR, TOTAL)),
            lrsched.sequential([(WARMUP, lrsched.polynomial_decay(start_lr=0.0, end_lr=LR, total_steps=WARMUP,
                                                                  power=1.0)),
                                (10 * WARMUP, lrsched.constant(lr=LR)), (TOTAL, cosine)]), 1e-12),
    }


def bench_scalar(repeats):
    steps = list(range(0, 2_000_000, 1000))  # 2000 steps through warm-ups, phases and restarts
    steps[:20] = range(0, 20 * 50, 50)
    rows = []
    for name, (ours, peer, rtol) in scalar_cases().items():
        for s in steps[::50] + [999, 1000, 1001, 11000, 3_000_000]:
            assert math.isclose(ours(s), peer(s), rel_tol=rtol, abs_tol=1e-13), (name, s, ours(s), peer(s))

        def loop(fn):
            def run():
                for s in steps:
                    fn(s)
            return run

        times = interleaved({"lrdecay": loop(ours), "lrsched": loop(peer)}, repeats)
        per_call = 1e9 / len(steps)
        mine, mine_text = stats(times["lrdecay"], per_call)
        theirs, theirs_text = stats(times["lrsched"], per_call)
        rows.append([name, mine_text, theirs_text, f"{mine / theirs:.2f}"])
    table("Scalar call s(int), ns per call: median (min-max)",
          ["schedule", "lrdecay", "lrsched", "lrdecay / lrsched"], rows)


# -- curves ---------------------------------------------------------------------------------


def _half_cosine_numpy(done, length):
    # (1 + cos(pi * done / length)) / 2 in lrdecay's cancellation-free form (Backend.half_cosine):
    # sin**2 of the distance to the nearest zero of the curve near one, (1 + sin(...)) / 2 elsewhere
    y = np.fmod(done, 2.0 * length)
    even = np.minimum(y, 2.0 * length - y)
    odd = np.abs(length - y)
    near_zero = odd < 0.5 * length
    s = np.sin(0.5 * np.pi * (np.where(near_zero, odd, length - 2.0 * even) / length))
    return np.where(near_zero, s * s, 0.5 + 0.5 * s)


def _cosine_numpy(t):
    # cosine_decay(LR, TOTAL)
    return LR * _half_cosine_numpy(np.minimum(t, TOTAL), TOTAL)


def _restarts_numpy(t):
    # cosine_decay_restarts(LR, FIRST): t_mul=2, m_mul=1, alpha=0: TensorFlow's cycle from a
    # logarithm, a restart step the logarithm puts at the end of the previous cycle moved on,
    # then the cosine of the position in the cycle in steps
    f = t / FIRST
    cycle = np.floor(np.log(1.0 + f) / np.log(2.0))
    length = np.power(2.0, cycle)
    cycle = np.where((f - (length - 1.0)) / length >= 1.0, cycle + 1.0, cycle)
    length = np.power(2.0, cycle)
    return LR * _half_cosine_numpy(t - FIRST * (length - 1.0), FIRST * length)


def curve_cases():
    """name -> (lrdecay schedule, the formula by hand in NumPy on float64 steps)."""
    return {
        "exponential_decay": (lrdecay.exponential_decay(LR, DECAY_STEPS, RATE),
                              lambda t: LR * np.power(RATE, t / DECAY_STEPS)),
        "exponential staircase": (lrdecay.exponential_decay(LR, DECAY_STEPS, RATE, staircase=True),
                                  lambda t: LR * np.power(RATE, np.floor(t / DECAY_STEPS))),
        "cosine_decay": (lrdecay.cosine_decay(LR, TOTAL), _cosine_numpy),
        "cosine_decay_restarts": (lrdecay.cosine_decay_restarts(LR, FIRST), _restarts_numpy),
    }


def peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
        del result
    finally:
        tracemalloc.stop()
    return peak


def bench_curves(repeats, sizes):
    rows = []
    for name, (ours, by_hand) in curve_cases().items():
        for n in sizes:
            t = np.arange(n)
            def hand(t=t, by_hand=by_hand):  # the steps are ints, like ours
                return by_hand(t.astype(np.float64))

            np.testing.assert_allclose(ours(t), hand(), rtol=1e-12, atol=1e-15 * LR)
            fns = {"lrdecay": lambda t=t, ours=ours: ours(t), "numpy": hand,
                   "float32": lambda n=n, ours=ours: ours.curve(n, dtype=np.float32)}
            times = interleaved(fns, max(3, repeats * 10**6 // n + 2))
            memory = {k: peak_bytes(fn) for k, fn in fns.items()}
            mine, mine_text = stats(times["lrdecay"], 1e3)
            theirs, theirs_text = stats(times["numpy"], 1e3)
            _, f32_text = stats(times["float32"], 1e3)
            rows.append([f"{name}, N={n:.0e}", mine_text, theirs_text, f"{mine / theirs:.2f}",
                         f"{memory['lrdecay'] / 2**20:.1f} / {memory['numpy'] / 2**20:.1f}",
                         f"{memory['lrdecay'] / memory['numpy']:.2f}", f32_text,
                         f"{memory['float32'] / 2**20:.1f}"])
    table("Curves s(np.arange(N)) against the formula by hand in NumPy: ms, median (min-max); peak MiB",
          ["schedule", "lrdecay", "hand NumPy", "time ratio", "peak MiB (lrdecay / NumPy)", "memory ratio",
           "curve(N, float32)", "float32 peak MiB"], rows)


# -- long joins -----------------------------------------------------------------------------


def bench_joins(repeats, n=10**6):
    def join_of(k):
        length = n // k
        return lrdecay.join([lrdecay.cosine_decay(LR * (1 + i % 3), length) for i in range(k)],
                            [length * i for i in range(1, k)])

    def nested(depth):
        s = lrdecay.cosine_decay(LR, n)
        for i in range(depth):
            s = lrdecay.warmup(s, 100 + 10 * i)
        return s

    t = np.arange(n)
    shuffled = np.random.default_rng(0).permutation(n)
    cases = {"join of 2": join_of(2), "join of 20": join_of(20), "join of 200": join_of(200),
             "warm-up, depth 1": nested(1), "warm-up, depth 10": nested(10)}
    fns = {name: (lambda s=s: s(t)) for name, s in cases.items()}
    fns.update({f"{name}, shuffled steps": (lambda s=s: s(shuffled)) for name, s in cases.items()
                if name in ("join of 2", "join of 200")})
    times = interleaved(fns, repeats)
    reference = {"join": statistics.median(times["join of 2"]),
                 "warm-up": statistics.median(times["warm-up, depth 1"]),
                 "shuffled": statistics.median(times["join of 2, shuffled steps"])}
    rows = []
    for name, values in times.items():
        med, text = stats(values, 1e3)
        base = reference["shuffled" if "shuffled" in name else name.split(" of")[0].split(",")[0]]
        rows.append([name, text, f"{med / base:.2f}"])
    table(f"Piecewise schedules at N={n:.0e} steps: ms, median (min-max); ratio to the 2-segment join "
          "(warm-ups: to depth 1)", ["schedule", "lrdecay", "ratio"], rows)


# -- torch ----------------------------------------------------------------------------------


def bench_torch(repeats, steps=1000):
    import torch
    from torch.optim import lr_scheduler as sched

    from lrdecay.torch import ScheduleLR

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # torch's "step() before optimizer.step()" warning
    rng = random.Random(0)
    metrics = [1.0 / (1 + i // 40) + rng.random() * 0.05 for i in range(4 * steps)]

    def optimizer(groups):
        params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(groups)]
        return torch.optim.SGD([{"params": [p]} for p in params], lr=LR, momentum=0.9)

    one_cycle = lrdecay.one_cycle(LR, TOTAL)
    cases = {  # name: (torch scheduler, ScheduleLR keyword arguments, steps with a metric)
        "ExponentialLR": (lambda o: sched.ExponentialLR(o, gamma=0.9999),
                          {"schedule": lrdecay.exponential(LR, 0.9999)}, False),
        "CosineAnnealingLR": (lambda o: sched.CosineAnnealingLR(o, T_max=TOTAL),
                              {"schedule": lrdecay.cosine_annealing(LR, TOTAL)}, False),
        "OneCycleLR (lr only)": (lambda o: sched.OneCycleLR(o, max_lr=LR, total_steps=TOTAL, cycle_momentum=False),
                                 {"schedule": one_cycle}, False),
        "OneCycleLR + momentum": (lambda o: sched.OneCycleLR(o, max_lr=LR, total_steps=TOTAL),
                                  {"schedule": one_cycle, "hyperparams": {"momentum": one_cycle.momentum()}},
                                  False),
        "SequentialLR (LinearLR, CosineAnnealingLR)": (
            lambda o: sched.SequentialLR(o, [sched.LinearLR(o, start_factor=0.1, total_iters=WARMUP),
                                             sched.CosineAnnealingLR(o, T_max=TOTAL)], milestones=[WARMUP]),
            {"schedule": lrdecay.join([lrdecay.linear(0.1 * LR, LR, WARMUP), lrdecay.cosine_annealing(LR, TOTAL)],
                                      [WARMUP])}, False),
        "ReduceLROnPlateau step(metric)": (
            lambda o: sched.ReduceLROnPlateau(o, factor=0.5, patience=3),
            {"schedule": lrdecay.constant(LR), "plateau": lambda: lrdecay.Plateau(factor=0.5, patience=3)}, True),
    }
    rows = []
    for name, (make_torch, kwargs, with_metric) in cases.items():
        for groups in (1, 8):
            def make_ours(groups=groups, kwargs=kwargs):
                options = {k: (v() if k == "plateau" else v) for k, v in kwargs.items()}
                return ScheduleLR(optimizer(groups), clock="calls", **options)

            def run(make, metric=with_metric, groups=groups, keep=None, torch_scheduler=make_torch):
                def go():  # a fresh scheduler, 50 steps of warm-up, then the timed steps
                    scheduler = make(optimizer(groups)) if make is torch_scheduler else make()
                    for m in metrics[:50]:
                        scheduler.step(m) if metric else scheduler.step()
                    start = time.perf_counter()
                    if metric:
                        for m in metrics[50:50 + steps]:
                            scheduler.step(m)
                    else:
                        for _ in range(steps):
                            scheduler.step()
                    elapsed = time.perf_counter() - start
                    if keep is not None:
                        keep.append(scheduler)
                    return elapsed
                return go

            built = []
            run(make_torch, keep=built)(), run(make_ours, keep=built)()  # same values first
            for a, b in zip(built[0].optimizer.param_groups, built[1].optimizer.param_groups):
                for key in ("lr", "momentum"):
                    assert math.isclose(a[key], b[key], rel_tol=1e-9), (name, key, a[key], b[key])
            times = interleaved({"torch": run(make_torch), "lrdecay": run(make_ours)}, repeats)
            mine, mine_text = stats(times["lrdecay"], 1e6 / steps)
            theirs, theirs_text = stats(times["torch"], 1e6 / steps)
            rows.append([name, str(groups), theirs_text, mine_text, f"{mine / theirs:.2f}"])
    table(f"torch scheduler step(), us per step over {steps} steps after 50 (a fresh scheduler per repeat): "
          "median (min-max)", ["schedule (torch)", "groups", "torch", "ScheduleLR", "ScheduleLR / torch"], rows)


# -- import ---------------------------------------------------------------------------------

_IMPORT = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def bench_import(repeats):
    commands = {
        "import numpy": "import numpy",
        "import lrdecay": "import lrdecay",
        "import lrdecay; lrdecay.cosine_decay (loads every kind)": "import lrdecay; lrdecay.cosine_decay",
    }
    times = {name: [] for name in commands}
    for _ in range(repeats):
        for name, code in commands.items():
            out = subprocess.run([sys.executable, "-c", _IMPORT.format(code)], capture_output=True, text=True,
                                 check=True)
            times[name].append(float(out.stdout))
    base = statistics.median(times["import numpy"])
    rows = []
    for name, values in times.items():
        med, text = stats(values, 1e3)
        rows.append([name, text, f"{med / base:.2f}"])
    table("Import in a fresh interpreter, ms: median (min-max); ratio to import numpy",
          ["statement", "time", "ratio"], rows)


def bench_torch_import(repeats):
    """``import torch`` against ``import torch; import lrdecay.torch`` in fresh interpreters, in
    turn; the last row is the time of ``import lrdecay.torch`` itself, measured after ``import
    torch`` in the same interpreter (what lrdecay.torch costs over torch, without the noise of
    torch's own import time)."""
    code = ("import sys, time; t = time.perf_counter(); import torch; t1 = time.perf_counter(); {}; "
            "t2 = time.perf_counter(); print(t1 - t, t2 - t, 'torch._dynamo' in sys.modules)")
    commands = {"import torch": code.format("pass"), "import torch; import lrdecay.torch": code.format("import lrdecay.torch")}
    # bytecode caches written (as an installed package has them), then one warm-up run
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", commands["import torch; import lrdecay.torch"]], env=env, check=True,
                   capture_output=True)
    times = {name: [] for name in commands}
    extra, dynamo = [], set()
    for _ in range(repeats):
        for name, command in commands.items():
            out = subprocess.run([sys.executable, "-c", command], capture_output=True, text=True, check=True, env=env)
            torch_only, total, loaded = out.stdout.split()
            times[name].append(float(total))
            if name != "import torch":
                extra.append(float(total) - float(torch_only))
                dynamo.add(loaded)
    rows = [[name, stats(values, 1e3, digits=4)[1]] for name, values in times.items()]
    rows.append(["import lrdecay.torch, after import torch (same interpreter)", stats(extra, 1e3)[1]])
    table(f"import lrdecay.torch over import torch, fresh interpreters, ms: median (min-max) of {repeats} "
          f"(torch._dynamo imported by lrdecay.torch: {', '.join(sorted(dynamo))})", ["statement", "time"], rows)


SECTIONS = {"scalar": bench_scalar, "curves": bench_curves, "joins": bench_joins, "torch": bench_torch,
            "import": bench_import, "torch_import": bench_torch_import}


def versions() -> str:
    import importlib.metadata as md

    names = ["numpy", "lrsched", "torch"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"python {platform.python_version()}, {', '.join(found)}, lrdecay {lrdecay.__version__}; "
            f"{cpu}, {os.cpu_count()} cpus, load average {load:.1f} at the start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**6, 10**7])
    parser.add_argument("--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    args = parser.parse_args()
    print(versions())
    for name in args.only:
        if name == "curves":
            bench_curves(args.repeats, args.sizes)
        else:
            SECTIONS[name](args.repeats)


if __name__ == "__main__":
    main()
