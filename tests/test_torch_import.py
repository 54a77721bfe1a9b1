"""Importing lrdecay.torch is cheap and safe: it imports nothing of torch's compiler (torch._dynamo
pulls in torch.distributed.fsdp and, where installed, triton, which crashes a process that
imported TensorFlow first), and torch.compile still compiles an optimizer step once."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest


def run_python(code, tmp_path, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_import_lrdecay_torch_imports_no_compiler(tmp_path):
    out = run_python("""
        import sys
        import torch
        import lrdecay.torch
        from lrdecay.torch import ScheduleLR, lr_find
        loaded = sorted(m for m in sys.modules if m.startswith(("torch._dynamo", "torch._inductor", "triton",
                                                                "torch.distributed.fsdp")))
        print(loaded)
    """, tmp_path)
    assert out.strip() == "[]"


def test_tensorflow_then_torch_then_every_lrdecay_module(tmp_path):
    """One process imports TensorFlow, torch and every module of the package, in that order (the
    order that crashed with triton installed); it must exit cleanly."""
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed")
    out = run_python("""
        import importlib, pkgutil, sys
        import tensorflow
        import torch
        import lrdecay
        names = [m.name for m in pkgutil.walk_packages(lrdecay.__path__, "lrdecay.")
                 if not m.name.endswith("__main__")]  # __main__ runs the command line
        for name in names:
            importlib.import_module(name)
        print(len(names), "torch" in sys.modules and "tensorflow" in sys.modules)
    """, tmp_path)
    count, both = out.split()[-2:]
    assert int(count) > 40 and both == "True"


def test_a_compiled_step_built_after_the_import_compiles_once(tmp_path):
    """ScheduleLR counts updates with an optimizer hook; the compiler is imported only when
    torch.compile is used, and the hook still runs outside the compiled graph: one graph, no
    recompile, every update counted, eager ones before the compile included."""
    out = run_python("""
        import warnings
        import torch
        import lrdecay
        from lrdecay.torch import ScheduleLR

        model = torch.nn.Linear(3, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        schedule = lrdecay.exponential_decay(0.1, 5, 0.5)
        scheduler = ScheduleLR(optimizer, schedule, compile_safe=True)
        x = torch.randn(8, 3)
        for _ in range(3):
            optimizer.zero_grad(); model(x).pow(2).mean().backward(); optimizer.step()

        @torch.compile
        def update():
            optimizer.step()

        rates = set()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a recompile-limit warning fails
            for _ in range(30):
                optimizer.zero_grad(); model(x).pow(2).mean().backward(); update()
                rates.add(scheduler.get_last_lr()[0])
        from torch._dynamo.utils import counters
        lr = optimizer.param_groups[0]["lr"]
        assert lr.item() == torch.tensor(schedule(33), dtype=torch.float32).item()
        print(scheduler.last_epoch, len(rates), counters["stats"]["unique_graphs"])
    """, tmp_path)
    assert out.split()[-3:] == ["33", "30", "1"]
