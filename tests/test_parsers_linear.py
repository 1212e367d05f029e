"""Unit: every parser of client input does work linear in its input, up to its size cap.

Hostile inputs (tests/hostile.py) from 64 characters up to the cap each parser is behind
(the Authorization length cap, BodyGuard's body cap, the invoice length cap, the request
line for ids). Judged by the parse time over one plain pass of the same input, compared
across sizes in one run, never by a wall-clock budget. bench/parsers.py records the times.
"""

from __future__ import annotations

import pytest

from tests.hostile import CASES, LINEAR_SLACK, Case, superlinear_growth


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_costs_linear_work_up_to_the_cap(case: Case) -> None:
    size, growth = superlinear_growth(case)
    assert growth <= LINEAR_SLACK, (
        f"{case.name}: at {size} characters the parse costs {growth:.1f}x more per "
        f"character than at {case.start}")
