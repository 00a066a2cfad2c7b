"""Trust figures for explanations: faithfulness, stability and sanity checks.

Every score comes with a random control, the same metric for random
attributions of the same shape, so a figure is read against chance.

>>> from whylens.metrics import deletion, insertion, stability
"""

from whylens.metrics._faithfulness import (
    deletion,
    faithfulness_correlation,
    infidelity,
    insertion,
)
from whylens.metrics._result import MetricResult, RandomControl

__all__ = [
    "MetricResult",
    "RandomControl",
    "deletion",
    "faithfulness_correlation",
    "infidelity",
    "insertion",
]
