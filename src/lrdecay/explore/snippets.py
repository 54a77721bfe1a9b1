"""Code to paste: a schedule wired into PyTorch, Keras or Optax, written from its ``repr``.

``repr(schedule)`` is the call that builds it, with the kinds' names; the kinds are functions of
the same name at the top of ``lrdecay``, so the code imports the names the text uses (a kind that
is not exported there is built with ``lrdecay.parse`` of the text instead).
"""

from __future__ import annotations

import re

from lrdecay.core.schedule import Schedule, registry

__all__ = ["snippets"]

_CALL = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*)\(")


def _construction(text: str) -> tuple[str, str]:
    """The import line and the expression that build the schedule whose repr is ``text``."""
    kinds = registry()  # every kind is a public name of lrdecay
    names = sorted({name for name in _CALL.findall(text) if name in kinds})
    if names:
        return f"from lrdecay import {', '.join(names)}", text
    return "import lrdecay", f"lrdecay.parse({text!r})"


def _program(schedule_text: str, framework: str, adapter: str, body: str) -> str:
    imports, expression = _construction(schedule_text)
    return f"import {framework}\n{imports}\n{adapter}\n\nschedule = {expression}\n\n{body}"


def snippets(schedule: Schedule) -> dict[str, str]:
    """``{"pytorch": ..., "keras": ..., "optax": ...}``: short programs that build ``schedule``
    and train with it. The PyTorch one prints the rate of its first five updates."""
    text = repr(schedule)
    pytorch = _program(text, "torch", "from lrdecay.torch import ScheduleLR", (
        "model = torch.nn.Linear(4, 1)  # your model\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=schedule(0))\n"
        "scheduler = ScheduleLR(optimizer, schedule)  # follows every optimizer.step()\n"
        "\n"
        "for step in range(5):  # your training loop\n"
        "    loss = model(torch.randn(8, 4)).pow(2).mean()\n"
        "    optimizer.zero_grad()\n"
        "    loss.backward()\n"
        "    print(step, optimizer.param_groups[0][\"lr\"])  # the rate of this update: schedule(step)\n"
        "    optimizer.step()\n"
    ))
    keras = _program(text, "keras", "from lrdecay.keras import KerasSchedule", (
        "# the optimizer evaluates the schedule at its iteration count (0 on the first update)\n"
        "optimizer = keras.optimizers.SGD(learning_rate=KerasSchedule(schedule))\n"
        "# model.compile(optimizer=optimizer, loss=...); model.fit(...)\n"
    ))
    optax = _program(text, "optax", "from lrdecay.optax import as_optax", (
        "# optax evaluates the schedule at the update count (0 on the first update), jit-safe\n"
        "optimizer = optax.sgd(learning_rate=as_optax(schedule))\n"
    ))
    return {"pytorch": pytorch, "keras": keras, "optax": optax}
