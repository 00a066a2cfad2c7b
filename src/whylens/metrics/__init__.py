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
from whylens.metrics._randomization import RandomizationResult, randomization_check
from whylens.metrics._result import MetricResult, RandomControl
from whylens.metrics._sensitivity import sensitivity_max
from whylens.metrics._stability import StabilityResult, StabilityWarning, stability

__all__ = [
    "MetricResult",
    "RandomControl",
    "RandomizationResult",
    "StabilityResult",
    "StabilityWarning",
    "deletion",
    "faithfulness_correlation",
    "infidelity",
    "insertion",
    "randomization_check",
    "sensitivity_max",
    "stability",
]
