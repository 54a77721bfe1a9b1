"""Loss-curve forecasting across learning-rate schedules.

Multi-power law (Luo et al., "A Multi-Power Law for Loss Curve Prediction Across Learning Rate
Schedules", ICLR 2025, arXiv:2503.12811) and scaling law with learning-rate annealing (Tissue et
al., arXiv:2408.11029): fit on logged runs, predict other schedules, bound the prediction, and
find the schedule with the lowest predicted final loss.
"""
from lrdecay.forecast.bands import band
from lrdecay.forecast.fitting import fit
from lrdecay.forecast.law import AnnealingLaw, MultiPowerLaw, from_dict, load
from lrdecay.forecast.planner import FRACTIONS, SHAPES, Plan, cosine, optimize, plan, wsd
from lrdecay.forecast.runs import Run, lr_array, read_csv
from lrdecay.forecast.scores import metrics

__all__ = ["AnnealingLaw", "MultiPowerLaw", "Plan", "Run", "band", "cosine", "fit", "from_dict",
           "load", "lr_array", "metrics", "optimize", "plan", "read_csv", "wsd", "FRACTIONS", "SHAPES"]
