"""Run a test file as several gloo processes on this machine and collect what each prints.

A distributed test file calls :func:`run_ranks` from its test, and in its ``__main__`` block does
its work between :func:`start` and :func:`finish`; each rank prints one JSON line.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(script: str, world: int, args=(), timeout: float = 180) -> list:
    """Start ``script`` once per rank (``WORLD_SIZE=world``), wait, and return each rank's last
    output line, parsed as JSON. A rank that fails fails the test with its stderr."""
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()),
           "WORLD_SIZE": str(world), "GLOO_SOCKET_IFNAME": "lo", "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, script, *map(str, args)], env={**env, "RANK": str(rank)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in range(world)]
    try:
        outputs = [proc.communicate(timeout=timeout) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


def start() -> None:
    """Join the process group (in a rank started by :func:`run_ranks`)."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method="env://")


def finish(result) -> None:
    """Print this rank's ``result`` as JSON and leave. Every rank waits for the others before the
    group is torn down, and the interpreter leaves without its own teardown: under load, gloo's
    threads can abort it ("terminate called without an active exception") after all the work is
    done and printed."""
    import torch.distributed as dist

    dist.barrier()
    dist.destroy_process_group()
    print(json.dumps(result), flush=True)
    os._exit(0)
