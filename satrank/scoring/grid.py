"""Interpolation on the amount grid (`budgets.AMOUNT_GRID_SAT`) in log-amount: what turns
the stored per-node grid into an answer for any amount."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# not scoring.graph's aliases: that module loads scipy.sparse, and the api reads the grid
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def log_amount_weights(grid_sat: Sequence[float], amount_sat: FloatArray | float
                       ) -> tuple[IntArray, IntArray, FloatArray]:
    """(lower index, upper index, weight of the upper one) for each amount; amounts outside
    the grid take its end values."""
    x = np.log(np.asarray(grid_sat, dtype=np.float64))
    a = np.log(np.clip(np.asarray(amount_sat, dtype=np.float64), grid_sat[0],
                       grid_sat[-1]))
    hi = np.clip(np.searchsorted(x, a, side="left"), 1, max(len(x) - 1, 1))
    lo = hi - 1
    span = np.where(x[hi] > x[lo], x[hi] - x[lo], 1.0)
    t = np.clip((a - x[lo]) / span, 0.0, 1.0)
    return (np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64),
            np.asarray(t, dtype=np.float64))


def interpolate(grid_sat: Sequence[float], values: FloatArray, amount_sat: FloatArray | float,
                column: IntArray | None = None) -> FloatArray:
    """values has shape (len(grid), m); the value at `amount_sat` of column `column` (one
    per amount; all columns in order when None)."""
    lo, hi, t = log_amount_weights(grid_sat, amount_sat)
    col = np.arange(values.shape[1]) if column is None else column
    return np.asarray((1.0 - t) * values[lo, col] + t * values[hi, col], dtype=np.float64)
