from lrdecay import cosine_decay_warmup, megatron_wd, swalr, timm_cosine, timm_noise, timm_poly, warmup_stable_decay

EXAMPLES = [
    timm_poly(0.1, 100),
    timm_poly(0.1, 20, power=2.0, lr_min=0.001, cycle_mul=2, cycle_decay=0.5, cycle_limit=3, warmup_t=5,
              warmup_lr_init=0.01, k_decay=1.5),
    timm_poly(0.1, 30, power=1.0, cycle_limit=2, warmup_t=4, warmup_prefix=True),
    swalr(0.1, 0.01),
    swalr(0.1, 0.05, anneal_epochs=7, anneal_strategy="linear"),
    swalr(0.1, 0.05, anneal_epochs=0),
    cosine_decay_warmup(0.0, 100, 0.1, 10),
    cosine_decay_warmup(0.01, 50, 0.2, 0, alpha=0.1),
    megatron_wd(0.01, 0.1, 1000),
    megatron_wd(0.0, 0.1, 500, wd_incr_style="cosine"),
    megatron_wd(0.05, 0.05, 500, wd_incr_style="constant"),
    warmup_stable_decay(0.1, 5, 10, 20, min_lr_ratio=0.1, decay_shape="cosine", num_cycles=1.25),
    timm_noise(timm_cosine(0.1, 100, lr_min=0.001), noise_range_t=[10, 80]),
    timm_noise(timm_poly(0.1, 50), noise_range_t=5, noise_type="uniform", noise_pct=0.3, noise_seed=7),
    timm_noise(timm_cosine(0.1, 40), noise_range_t=0, noise_pct=0.2, noise_std=2.0, noise_seed=-3),
]
