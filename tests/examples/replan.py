from lrdecay import cosine_annealing, cosine_decay, warmup_stable_decay

_WSD = warmup_stable_decay(0.1, 10, 10**6, 0, min_lr_ratio=0.1)

EXAMPLES = [
    cosine_decay(0.1, 1000, alpha=0.01).extend(3000, at=400),
    warmup_stable_decay(0.1, 20, 100, 80).extend(150, at=60),
    cosine_annealing(0.1, 100).clip(min=0.0).cooldown_from(50, 30, "cosine", to=0.0),
    _WSD.cooldown_from(200, 100),
    _WSD.cooldown_from(200, 100, "1-sqrt"),
    _WSD.cooldown_from(0, 7, "exponential", to=0.05),
]
