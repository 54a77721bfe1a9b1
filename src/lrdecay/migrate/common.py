"""What the importers share: the error for a scheduler with no closed form, and one schedule
for all param groups when they agree."""

from __future__ import annotations


class Unsupported(ValueError):
    """A scheduler that has no closed form lrdecay can read."""


def same_for_all(schedules: list):
    """The one schedule when every param group has the same, else the list."""
    return schedules[0] if all(s == schedules[0] for s in schedules) else schedules
