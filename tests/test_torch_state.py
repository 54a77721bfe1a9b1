"""ScheduleLR: a corrupted saved state is refused naming the field; a tensor lr stays a tensor."""

import copy
import math
import warnings

import pytest
import torch

import lrdecay
from lrdecay.torch import ScheduleLR

EXP = lrdecay.exponential_decay(0.1, 20, 0.8)


def two_groups(lr=0.05):
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(2)]
    return torch.optim.SGD([{"params": [p]} for p in params], lr=lr, momentum=0.9)


def scheduler(optimizer=None):
    return ScheduleLR(optimizer or two_groups(), EXP, mode="factor", clock="calls",
                      hyperparams={"momentum": lrdecay.constant(0.5)},
                      plateau=lrdecay.Plateau(patience=0, factor=0.5))


def saved():
    sched = scheduler()
    for metric in (1.0, 1.0, 1.0):
        sched.step(metrics=metric)
    return sched.state_dict()


def setting(path, value):
    def corrupt(state):
        state = copy.deepcopy(state)
        *parents, last = path
        target = state
        for key in parents:
            target = target[key]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
        return state

    return corrupt


DELETE = object()

CORRUPTIONS = [
    # the whole state
    ("not a dict", lambda s: [s], TypeError, "state_dict must be a dict"),
    ("format missing", setting(["format"], DELETE), ValueError, r"state_dict\['format'\] must be 1, got None"),
    ("format unknown", setting(["format"], 2), ValueError, r"state_dict\['format'\] must be 1, got 2"),
] + [
    (f"{key} missing", setting([key], DELETE), ValueError, f"state_dict is missing '{key}'")
    for key in ("spec", "clock", "bases", "plateau")
] + [
    # the spec
    ("spec not a dict", setting(["spec"], "cosine"), TypeError, r"state_dict\['spec'\] must be a dict"),
] + [
    (f"spec {key} missing", setting(["spec", key], DELETE), ValueError, rf"state_dict\['spec'\] is missing '{key}'")
    for key in ("schedules", "mode", "clock", "plateau")
] + [
    ("schedules not a dict", setting(["spec", "schedules"], [1]), ValueError, r"\['schedules'\] must be a dict"),
    ("schedules without lr", setting(["spec", "schedules", "lr"], DELETE), ValueError, "with an 'lr' entry"),
    ("schedules wrong type", setting(["spec", "schedules", "lr"], "x"), TypeError,
     r"\['schedules'\]\['lr'\] must be a list"),
    ("schedules wrong length", setting(["spec", "schedules", "lr"], [None]), ValueError,
     r"\['schedules'\]\['lr'\] has 1 entries, the optimizer 2"),
    ("schedule not a dict", setting(["spec", "schedules", "lr", 0], 3.0), TypeError,
     r"\['schedules'\]\['lr'\]\[0\] must be a schedule spec"),
    ("unknown mode", setting(["spec", "mode"], "relative"), ValueError, r"\['spec'\]\['mode'\] must be one of"),
    ("unknown clock", setting(["spec", "clock"], "epochs"), ValueError, r"\['spec'\]\['clock'\] must be one of"),
    ("spec plateau wrong type", setting(["spec", "plateau"], 0.5), TypeError, r"\['spec'\]\['plateau'\] must be a dict"),
    # the clock
    ("clock negative", setting(["clock"], -1), ValueError, r"state_dict\['clock'\] must be an int >= 0"),
    ("clock float", setting(["clock"], 3.0), ValueError, r"state_dict\['clock'\] must be an int >= 0"),
    ("clock bool", setting(["clock"], True), ValueError, r"state_dict\['clock'\] must be an int >= 0"),
    ("clock past 2**53", setting(["clock"], 2**53 + 1), ValueError,
     r"state_dict\['clock'\] must be an int >= 0 and <= 2\*\*53 \(float64 steps are exact up to there\), got "
     r"9007199254740993"),
    ("clock 2**200", setting(["clock"], 2**200), ValueError, r"state_dict\['clock'\] must be an int >= 0 and <= 2\*\*53"),
    ("clocks past 2**53", setting(["clocks"], {"tokens": 2**60}), ValueError,
     r"state_dict\['clocks'\] must map clock names to ints >= 0 and <= 2\*\*53"),
    # the bases
    ("bases wrong type", setting(["bases"], [0.05]), TypeError, r"state_dict\['bases'\] must be a dict"),
    ("bases missing a name", setting(["bases", "momentum"], DELETE), ValueError,
     r"state_dict\['bases'\] has entries \['lr'\], the saved schedules \['lr', 'momentum'\]"),
    ("bases wrong length", setting(["bases", "lr"], [0.05]), ValueError,
     r"\['bases'\]\['lr'\] has 1 entries, the optimizer 2"),
    ("base NaN", setting(["bases", "lr", 1], math.nan), ValueError, r"\['bases'\]\['lr'\]\[1\] must be a finite number"),
    ("base inf", setting(["bases", "lr", 0], math.inf), ValueError, r"\['bases'\]\['lr'\]\[0\] must be a finite number"),
    ("base negative", setting(["bases", "lr", 0], -0.1), ValueError, r"\['bases'\]\['lr'\]\[0\] must be a finite number >= 0"),
    ("base str", setting(["bases", "momentum", 0], "0.9"), TypeError, r"\['bases'\]\['momentum'\]\[0\] must be a number"),
    # the plateau's counters
    ("plateau wrong type", setting(["plateau"], [1]), TypeError, r"state_dict\['plateau'\] must be a dict"),
    ("plateau best NaN", setting(["plateau", "best"], math.nan), ValueError, r"\['plateau'\]: .*best must be finite"),
    ("plateau factor 0", setting(["plateau", "factors"], [0.0]), ValueError, r"\['plateau'\]: .*factors\[0\] must be > 0"),
    ("plateau factors too many", setting(["plateau", "factors"], [0.5, 0.5, 0.5]), ValueError,
     r"\['plateau'\]: factors has 3 entries, the optimizer 2"),
    ("plateau counter missing", setting(["plateau", "num_bad_epochs"], DELETE), ValueError,
     r"\['plateau'\]: .*missing num_bad_epochs"),
    ("plateau counter negative", setting(["plateau", "cooldown_counter"], -1), ValueError,
     r"\['plateau'\]: .*cooldown_counter must be >= 0"),
]


@pytest.mark.parametrize("name, corrupt, error, match", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
@pytest.mark.parametrize("on_mismatch", ["raise", "use_saved"])
def test_corrupted_state_is_refused_naming_the_field(name, corrupt, error, match, on_mismatch):
    sched = scheduler()
    sched.step(metrics=1.0)
    before = (sched.state_dict(), sched.get_last_lr())
    with pytest.raises(error, match=match):
        sched.load_state_dict(corrupt(saved()), on_mismatch=on_mismatch)
    assert (sched.state_dict(), sched.get_last_lr()) == before  # nothing half-loaded


def test_saved_spec_with_a_bad_schedule_or_plateau_config():
    state = saved()
    state["spec"]["schedules"]["lr"][0] = {"kind": "exponential_decay", "learning_rate": 0.1}
    with pytest.raises(ValueError, match=r"\['schedules'\]\['lr'\]\[0\]: "):
        scheduler().load_state_dict(state, on_mismatch="use_saved")
    state = saved()
    state["spec"]["plateau"]["mode"] = "sideways"
    with pytest.raises(ValueError, match=r"\['spec'\]\['plateau'\]: mode must be one of"):
        scheduler().load_state_dict(state, on_mismatch="use_saved")


def test_a_good_state_still_resumes_and_keeps_the_users_plateau():
    state = saved()
    sched = scheduler()
    plateau = sched.plateau
    sched.load_state_dict(state)
    assert sched.plateau is plateau and plateau.factor == 0.25 and sched.state_dict() == state


# -- clocks float64 holds exactly -------------------------------------------------------------


def test_a_clock_past_2_53_is_refused_naming_the_field():
    """Past 2**53 a float64 step is not the clock (cyclic's phase, a staircase's floor are then
    wrong); the exact range loads, one more is refused wherever a clock comes in."""
    cyclic = lrdecay.cyclic(0.01, 0.1, 3)
    sched = ScheduleLR(two_groups(), cyclic, clock="samples")
    state = sched.state_dict()
    sched.load_state_dict({**state, "clock": 2**53})
    assert sched.last_epoch == 2**53 and sched.get_last_lr() == [cyclic(2**53)] * 2
    with pytest.raises(ValueError, match=r"n: the clock would pass 2\*\*53 \(9007199254740992 \+ 1\)"):
        sched.step(1)
    sched.step(0)
    for bad in (2**53 + 1, 2**60 + 1, 2**200):
        with pytest.raises(ValueError, match=r"state_dict\['clock'\] must be an int >= 0 and <= 2\*\*53"):
            sched.load_state_dict({**state, "clock": bad})
    assert sched.last_epoch == 2**53
    joined = lrdecay.clock_join([lrdecay.constant(0.1), lrdecay.constant(0.05)], ["steps", "tokens"], [10])
    tokens = ScheduleLR(two_groups(), joined, clock="calls")
    tokens.count(tokens=2**53)
    with pytest.raises(ValueError, match=r"tokens: the clock would pass 2\*\*53"):
        tokens.count(tokens=1)


def test_a_torch_clock_past_2_53_is_refused():
    optimizer = two_groups()
    torch_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 3)
    state = {**torch_scheduler.state_dict(), "last_epoch": 2**60}
    with pytest.raises(ValueError, match=r"state_dict\['last_epoch'\] must be an int in \[0, 2\*\*53\]"):
        ScheduleLR(optimizer, lrdecay.step_decay(0.05, 3), clock="calls").load_state_dict(state)
    torch_scheduler.last_epoch = 2**53 + 1
    with pytest.raises(ValueError, match=r"scheduler.last_epoch must be an int in \[0, 2\*\*53\]"):
        lrdecay.from_torch(torch_scheduler)
    with pytest.raises(ValueError, match=r"scheduler.last_epoch must be an int in \[0, 2\*\*53\]"):
        ScheduleLR.from_torch(torch_scheduler)


# -- a tensor lr stays a tensor --------------------------------------------------------------


@pytest.mark.parametrize("compile_safe", [False, True])
def test_tensor_lr_stays_the_same_tensor(compile_safe):
    param = torch.nn.Parameter(torch.zeros(3))
    lr = torch.tensor(0.1)
    optimizer = torch.optim.Adam([param], lr=lr)
    sched = ScheduleLR(optimizer, EXP, compile_safe=compile_safe, clock="calls",
                       plateau=lrdecay.Plateau(patience=0, factor=0.5))
    assert optimizer.param_groups[0]["lr"] is lr
    for k in range(1, 6):
        param.grad = torch.ones(3)
        optimizer.step()
        sched.step(metrics=1.0) if k % 2 else sched.step()
        assert optimizer.param_groups[0]["lr"] is lr and lr.dim() == 0
        assert lr.item() == torch.tensor(sched.plateau.effective(EXP(k)), dtype=torch.float32).item()
    assert sched.get_last_lr() == [lr.item()]
    state = sched.state_dict()
    optimizer.load_state_dict(optimizer.state_dict())
    sched.load_state_dict(state)
    assert isinstance(optimizer.param_groups[0]["lr"], torch.Tensor)


def test_float_lr_stays_a_float_and_torch_keeps_tensors_too():
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([param], lr=0.1)
    ScheduleLR(optimizer, EXP)
    assert type(optimizer.param_groups[0]["lr"]) is float
    # torch's own schedulers keep a tensor lr a tensor: the behaviour reproduced here
    lr = torch.tensor(0.1)
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(3))], lr=lr)
    torch_scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, 0.5)
    optimizer.step()
    torch_scheduler.step()
    assert optimizer.param_groups[0]["lr"] is lr


def test_non_scalar_tensor_value_is_refused():
    param = torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    optimizer.param_groups[0]["momentum"] = torch.tensor([0.9, 0.9])
    with pytest.raises(ValueError, match="'momentum' is a tensor of shape \\(2,\\)"):
        ScheduleLR(optimizer, EXP, hyperparams={"momentum": lrdecay.constant(0.5)})


def test_compiled_step_with_a_user_tensor_lr_does_not_recompile():
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=torch.tensor(0.1))
    sched = ScheduleLR(optimizer, lrdecay.exponential_decay(0.1, 5, 0.5), clock="calls")

    @torch.compile
    def compiled_update():
        optimizer.step()

    x = torch.randn(8, 3)
    seen = set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a recompile-limit warning fails the test
        for _ in range(30):
            optimizer.zero_grad()
            model(x).pow(2).mean().backward()
            compiled_update()
            sched.step()
            seen.add(sched.get_last_lr()[0])
    assert len(seen) == 30
    assert counters["stats"]["unique_graphs"] == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (GPU-only check)")
def test_cuda_graphs_with_a_user_tensor_lr_without_compile_safe():
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    model = torch.nn.Linear(64, 64).cuda()
    lr = torch.tensor(1e-3, device="cuda")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, capturable=True)
    schedule = lrdecay.exponential_decay(1e-3, 5, 0.5)
    ScheduleLR(optimizer, schedule)  # no compile_safe: the user's tensor is kept and filled

    @torch.compile(mode="reduce-overhead")
    def compiled_update():
        optimizer.step()

    x = torch.randn(32, 64, device="cuda")
    for k in range(50):
        optimizer.zero_grad(set_to_none=False)
        model(x).pow(2).mean().backward()
        compiled_update()
        assert optimizer.param_groups[0]["lr"] is lr
        assert lr.item() == torch.tensor(schedule(k + 1), dtype=torch.float32).item()
    assert counters["stats"]["unique_graphs"] == 1

