"""Trust figures for explanations: faithfulness, stability and sanity checks.

Every score comes with a random control, the same metric for random
attributions of the same shape, so a figure is read against chance.

===========================  ===================================================
function                     what it measures
===========================  ===================================================
deletion / insertion         the label's output as the top features are removed
                             / added, area under the curve (tables, text, images)
faithfulness_correlation     correlation of attribution sums and output drops
infidelity                   captum's infidelity (normalised, captum#613)
sensitivity_max              captum's sensitivity-max of an explanation function
stability                    top-k Jaccard, Spearman, Kendall across seeds; the
                             budget (LIME num_samples, Kernel SHAP nsamples)
                             that makes the top-k stable
randomization_check          cascading / independent layer randomisation of a
                             copy of a torch model: Spearman and SSIM per layer
quality                      the figures as plain JSON for ``Explanation.quality``
===========================  ===================================================

>>> from whylens.metrics import deletion, insertion, stability
"""

from whylens.metrics._faithfulness import (
    deletion,
    faithfulness_correlation,
    infidelity,
    insertion,
)
from whylens.metrics._quality import QUALITY_METRICS, quality
from whylens.metrics._randomization import RandomizationResult, randomization_check
from whylens.metrics._result import MetricResult, RandomControl
from whylens.metrics._sensitivity import sensitivity_max
from whylens.metrics._stability import StabilityResult, StabilityWarning, stability

__all__ = [
    "QUALITY_METRICS",
    "MetricResult",
    "RandomControl",
    "RandomizationResult",
    "StabilityResult",
    "StabilityWarning",
    "deletion",
    "faithfulness_correlation",
    "infidelity",
    "insertion",
    "quality",
    "randomization_check",
    "sensitivity_max",
    "stability",
]
