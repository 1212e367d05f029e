"""How small the vantage transfer's cost could be with what the payer-aware answer knows, read
from calibration v2 dumps (bench/calibration_v2.py `--dump FILE`).

    .venv/bin/python bench/transfer_ceiling.py /tmp/s5.json /tmp/s7.json ...

The transfer (issue 15 item 8) is B's Brier over A's on the same nodes, amounts and budgets,
minus 1. For B, a private payer, the answer POST /api/intent gives mixes two inputs in
log-odds: the grid's theta (what A's probes measured, given a route) and the route model
for B's own position (`scoring/intent.condition`). Per world this prints the cost for:

- `reference`: the grid's answer for the reference payer, the same p for A and B;
- `aware`: the payer-aware answer as served (the code's weights);
- `refit`: the same two inputs recombined by a logistic recalibration (intercept and two
  slopes) fitted on B's own held-out outcomes in that world: in-sample, so a bound for
  every estimator that combines these inputs this way, trained on A or not;
- `+ B's cells`: `refit` plus one intercept per (amount, budget) cell, also fitted on B's
  outcomes: what knowing B's own success rate per cell adds (evidence from B's side,
  which a model trained on A alone does not have).

Rows: each B row that has an A row for the same (node, amount, budget); repeats and
'error' outcomes (our own faults) left out, as the calibration bench does. Rows the
answer does not mix (no route, or the route model agrees with the reference payer's)
keep the served answer in every column. Dumps written before the payer-aware parts were
dumped (no `p_routes_up`) cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from satrank.scoring.intent import MODEL_ROUTE_SHARE  # noqa: E402

FloatArray = npt.NDArray[np.float64]
_CLIP = 1e-4  # log-odds inputs are read within [_CLIP, 1 - _CLIP]
A_LABEL = "oracle"  # the trained vantage's label in the dumps (simnet's oracle node)


@dataclass(frozen=True)
class Paired:
    """B's rows with their A row: outcomes, answers and the payer-aware parts of B's."""

    y_a: FloatArray
    y_b: FloatArray
    reference_a: FloatArray
    reference_b: FloatArray
    aware_a: FloatArray
    aware_b: FloatArray
    theta_b: FloatArray  # the grid's part given a route (the dump's `aware_theta`)
    routes_b: FloatArray  # the route model for B, times the population's rate of being up
    mixed_b: npt.NDArray[np.bool_]  # the answer mixed the two (moved, with a route)
    cell: npt.NDArray[np.int64]  # index of the row's (amount, budget) cell

    def __len__(self) -> int:
        return int(self.y_b.shape[0])


def read_rows(path: Path) -> list[dict[str, object]]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def paired_rows(rows: Sequence[dict[str, object]], a_label: str = A_LABEL) -> Paired:
    """B's main rows that A paid the same way (see the module docstring)."""
    def key(r: dict[str, object]) -> tuple[object, object, object]:
        return r["pubkey"], r["amount_sat"], r["budget"]

    kept = [r for r in rows if not r["repeat"] and not str(r["outcome"]).startswith("error")]
    from_a = {key(r): r for r in kept if r["payer"] == a_label}
    b_rows = [r for r in kept if r["payer"] != a_label and key(r) in from_a]
    a_rows = [from_a[key(r)] for r in b_rows]
    cells = sorted({(r["amount_sat"], r["budget"]) for r in b_rows}, key=str)
    index = {c: k for k, c in enumerate(cells)}

    def col(rs: list[dict[str, object]], name: str) -> FloatArray:
        return np.array([float(r[name]) for r in rs], dtype=np.float64)  # type: ignore[arg-type]

    def reached(rs: list[dict[str, object]]) -> FloatArray:
        return np.array([r["outcome"] == "reached" for r in rs], dtype=np.float64)

    aware_b = col(b_rows, "aware")
    return Paired(
        y_a=reached(a_rows), y_b=reached(b_rows),
        reference_a=col(a_rows, "p"), reference_b=col(b_rows, "p"),
        aware_a=col(a_rows, "aware"), aware_b=aware_b,
        theta_b=col(b_rows, "aware_theta"), routes_b=col(b_rows, "p_routes_up"),
        mixed_b=(col(b_rows, "moved") > 0) & (aware_b > 0),
        cell=np.array([index[(r["amount_sat"], r["budget"])] for r in b_rows],
                      dtype=np.int64))


def transfer(p_a: FloatArray, p_b: FloatArray, pairs: Paired) -> float:
    """B's summed squared errors over A's, minus 1 (equal row counts: the Brier ratio)."""
    return float(np.sum((p_b - pairs.y_b) ** 2) / np.sum((p_a - pairs.y_a) ** 2) - 1.0)


def _design(pairs: Paired, cells: bool) -> FloatArray:
    m = pairs.mixed_b
    x = [logit(np.clip(pairs.theta_b[m], _CLIP, 1 - _CLIP)),
         logit(np.clip(pairs.routes_b[m], _CLIP, 1 - _CLIP))]
    if cells:  # one intercept per cell
        x += [(pairs.cell[m] == k).astype(np.float64) for k in range(int(pairs.cell.max()) + 1)]
    else:
        x.append(np.ones(int(m.sum())))
    return np.column_stack(x)


def refit(pairs: Paired, *, cells: bool = False) -> tuple[FloatArray, FloatArray]:
    """B's answer with its two inputs recombined by the logistic recalibration of least
    Brier on B's own outcomes (`cells`: one intercept per cell), and the coefficients
    (slopes of logit theta and logit routes, then the intercept(s)); rows not mixed keep
    the served answer. Starts from the code's weights (1 - share, share, intercept 0); the
    served mix differs from that start only by its clips and the rate of being up in
    `routes_b`."""
    m = pairs.mixed_b
    out = pairs.aware_b.copy()
    if not m.any():
        return out, np.zeros(0)
    x, y = _design(pairs, cells), pairs.y_b[m]
    share = MODEL_ROUTE_SHARE
    start = np.r_[1 - share, share, np.zeros(x.shape[1] - 2)]

    def brier_and_gradient(c: FloatArray) -> tuple[float, FloatArray]:
        p = expit(x @ c)
        r = p - y
        return float(r @ r), (2.0 * r * p * (1.0 - p)) @ x

    fitted = minimize(brier_and_gradient, start, jac=True, method="L-BFGS-B")
    out[m] = expit(x @ fitted.x)
    return out, np.asarray(fitted.x, dtype=np.float64)


def ceiling_row(pairs: Paired) -> tuple[dict[str, float], FloatArray]:
    """The transfer of each answer (module docstring; A keeps its served answer), and the
    coefficients of `refit` without cells."""
    fitted, coefficients = refit(pairs)
    return {"reference": transfer(pairs.reference_a, pairs.reference_b, pairs),
            "aware": transfer(pairs.aware_a, pairs.aware_b, pairs),
            "refit": transfer(pairs.aware_a, fitted, pairs),
            "+ B's cells": transfer(pairs.aware_a, refit(pairs, cells=True)[0], pairs)
            }, coefficients


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dumps", nargs="+", type=Path)
    args = parser.parse_args()
    print("| dump | pairs | reference | aware | refit (on B) | + B's cells (on B) | refit: "
          "theta, routes, intercept |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for path in args.dumps:
        pairs = paired_rows(read_rows(path))
        row, c = ceiling_row(pairs)
        print(f"| {path.name} | {len(pairs)} | " + " | ".join(f"{v:+.1%}" for v in row.values())
              + " | " + ", ".join(f"{x:.2f}" for x in c) + " |")


if __name__ == "__main__":
    main()
