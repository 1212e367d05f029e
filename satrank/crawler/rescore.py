"""Whether a scoring pass is due: never skip one when an input changed, skip a pass over
the very inputs of the stored one unless that one is too old.

A pass reads the graph, the payer, probe and report evidence and channel knowledge
(`db.scoring_inputs` summarises them in one cheap statement), with the crawler's scoring
parameters and the model's code; the key is a digest of all of them, stored with the pass.
The same key means the same scores except for the clock: evidence decays with a half-life
H (SCORE_HALF_LIFE_DAYS, 7 days) and channel knowledge over a week, so the stored pass is
redone once it is older than CRAWL_RESCORE_MAX_AGE_S (default 1 hour). Why an hour: a
decay by a factor d scales every node's evidence alike, which moves a posterior mean by at
most |ln d| = t ln 2 / H; after 1 hour at H = 7 days that is 0.0041, below the 0.005
change of p_success that makes a history row (`db.scores.HISTORY_MIN_P_CHANGE`), and
knowledge bounds move by under 0.6 % of their gap. The interval is also capped at the
age where that bound reaches 0.005 for the configured H, so a short half-life rescores
sooner. /api/health calls scores stale after 2 hours, beyond the hour plus a graph sync
interval.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from satrank.db.scores import HISTORY_MIN_P_CHANGE
from satrank.db.scoring_inputs import LastPass

_PACKAGE = Path(__file__).resolve().parents[1]
# the code that turns the same rows into scores: a new model must not wait for the interval
_MODEL_CODE = ("scoring/*.py", "db/scores.py", "db/probes.py", "db/knowledge.py")


@dataclass(frozen=True)
class ScoringSkipped:
    """A pass not run: the stored one (computed at `last_computed_at`) is of these inputs."""

    last_computed_at: datetime


@functools.cache
def model_code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for pattern in _MODEL_CODE for p in _PACKAGE.glob(pattern)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def inputs_key(summary: tuple[object, ...] | None, parameters: object) -> str | None:
    """Digest of a pass's inputs (`db.scoring_inputs.scoring_inputs_summary`), its
    parameters (any value with a deterministic repr) and the model's code; None when the
    inputs cannot be summarised."""
    if summary is None:
        return None
    text = repr((summary, parameters, model_code_digest()))
    return hashlib.sha256(text.encode()).hexdigest()


def max_pass_age_s(setting_s: float, half_life_s: float) -> float:
    """The configured interval, capped where pure decay could move p_success by the
    history threshold (see the module docstring)."""
    return min(setting_s, HISTORY_MIN_P_CHANGE * half_life_s / math.log(2.0))


def rescore_reason(last: LastPass | None, key: str | None, *, now: datetime,
                   max_age_s: float) -> str | None:
    """Why a pass must run now; None when the stored pass stands for it."""
    if key is None:
        return "inputs without a digest"
    if last is None:
        return "no stored pass"
    if last.inputs_key != key:
        return "inputs changed"
    age_s = (now - last.computed_at).total_seconds()
    if age_s < 0:
        return "clock before the stored pass"
    if age_s >= max_age_s:
        return "stored pass too old"
    return None
