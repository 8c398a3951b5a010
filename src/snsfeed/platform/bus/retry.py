"""Retry schedule shared by both bus backends."""

from __future__ import annotations

from collections.abc import Sequence


def delay_after(attempt: int, delays: Sequence[float]) -> float:
    """Backoff before attempt ``attempt + 1`` (attempts count from 1); the last delay repeats."""
    if not delays:
        return 0.0
    return float(delays[min(attempt, len(delays)) - 1])
