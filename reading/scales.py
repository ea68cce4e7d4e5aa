"""AI scores on the scales radiologists already read: an operating-point band and a 1–10 score.

Both are read against the thresholds and cuts of the model version that produced the
score (``CaseScore.thresholds`` / ``CaseScore.scale_cuts``, filled from its manifest):

- band: ``likely_normal`` under the high-sensitivity threshold, ``positive`` at or above
  the high-specificity threshold, ``doubt`` in between (the zone where the model is
  sensitive but not specific);
- 1–10: the number of cuts at or below the probability, plus one (below the first cut is
  1, at or above the last of the 9 cuts is 10).

Thresholds are compared in float32, as :func:`inference.postprocess.operating_point`
does, so a band always agrees with the operating point badge of the same score.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import pairwise
from typing import Literal

import numpy as np

Band = Literal["likely_normal", "doubt", "positive"]
BANDS: tuple[Band, ...] = ("likely_normal", "doubt", "positive")
SCALE_CUTS = 9


def band(probability: float, thresholds: tuple[float, float]) -> Band:
    """The operating-point band of ``probability`` for (high_sensitivity, high_specificity)."""
    high_sensitivity, high_specificity = thresholds
    p = np.float32(probability)
    if p >= np.float32(high_specificity):
        return "positive"
    if p >= np.float32(high_sensitivity):
        return "doubt"
    return "likely_normal"


def scale_1_10(probability: float, cuts: Sequence[float]) -> int:
    """The 1–10 score of ``probability`` on 9 increasing cuts (ValueError otherwise)."""
    if len(cuts) != SCALE_CUTS or any(b <= a for a, b in pairwise(cuts)):
        raise ValueError(f"a 1–10 scale needs {SCALE_CUTS} strictly increasing cuts, "
                         f"got {list(cuts)}")
    return 1 + bisect_right(list(cuts), probability)
