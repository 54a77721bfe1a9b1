from lrdecay import cosine_onecycle, linear_onecycle, one_cycle, one_cycle_momentum
from lrdecay.schedules.cyclical import cyclic

EXAMPLES = [
    one_cycle(0.1, 100),
    one_cycle(0.1, 50, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
              final_div_factor=100.0, three_phase=True),
    one_cycle_momentum(100),
    one_cycle_momentum(50, pct_start=0.4, anneal_strategy="linear", base_momentum=0.8,
                       max_momentum=0.9, three_phase=True),
    cyclic(0.001, 0.1, 10),
    cyclic(0.001, 0.1, 5, 15, mode="triangular2"),
    cyclic(0.001, 0.1, 4, mode="exp_range", gamma=0.99),
    cyclic(0, 1, 4, mode="exp_range", gamma=1),
    linear_onecycle(100, 0.1),
    linear_onecycle(30, 1.0, pct_start=0.2, pct_final=0.9, div_factor=10.0, final_div_factor=100.0),
    cosine_onecycle(100, 0.1),
    cosine_onecycle(7, 1.0, pct_start=0.5),
]
