"""Wave assignment, a pure function.

Rules: the first ``canary`` stations are wave 0.  The remaining *n* stations follow in waves
whose sizes make the cumulative share of the remainder reach each percentage of
``percents`` (rounded up), the last wave taking whatever is left (an implicit 100 %).
Example: 200 stations, canary 2, percents (10, 50) → waves of 2, 20, 79 and 99.
"""

from __future__ import annotations

import math


def assign_waves(count: int, *, canary: int, percents: list[int] | tuple[int, ...]) -> list[int]:
    canary = min(canary, count)
    waves = [0] * canary
    rest = count - canary
    done, wave = 0, 1
    for percent in sorted(set(p for p in percents if 0 < p < 100)):
        upto = min(rest, math.ceil(rest * percent / 100))
        if upto > done:
            waves += [wave] * (upto - done)
            done, wave = upto, wave + 1
    waves += [wave] * (rest - done)
    return waves
