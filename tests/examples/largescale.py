from lrdecay import (
    batch_ramp,
    clock_join,
    constant,
    cosine_decay,
    join,
    linear,
    megatron_lr,
    on_clock,
    scale_lr,
    scale_wd,
)

_RAMP = batch_ramp(32, 256, 32, 10_000)

EXAMPLES = [
    _RAMP,
    batch_ramp(8, 64, 8, 5_000, seq_length=1024, value="tokens"),
    batch_ramp(16, 1024, 16, 300_000, value="batch_size"),
    batch_ramp(128, 128, 1, 0),
    on_clock(megatron_lr(3e-4, 200_000, min_lr=3e-5, warmup_steps=2_000, decay_style="cosine"), _RAMP),
    join([linear(0.0, 1e-3, 100), on_clock(cosine_decay(1e-3, 5e7), batch_ramp(8, 64, 8, 5_000, seq_length=1024,
                                                                           value="tokens"), since=100)], [100]),
    scale_lr(cosine_decay(0.1, 1000), "linear", base_batch=256, batch=1024),
    scale_lr(constant(3e-4), "sqrt", base_batch=1024, batch=batch_ramp(64, 1024, 64, 100_000)),
    scale_wd(constant(0.1), base_batch=256, batch=64),
]
EXAMPLES += [
    clock_join([linear(0.0, 1e-3, 2000), cosine_decay(1e-3, 1e9)], ["steps", "tokens"], [2000]),
    clock_join([linear(0.0, 1e-3, 100), constant(1e-3), cosine_decay(1e-3, 1e6)], ["steps", "tokens", "tokens"],
               [100, 5e5]),
]
