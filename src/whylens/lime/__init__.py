"""LIME: local surrogate explanations, with lime's API for drop-in use.

>>> from whylens.lime import LimeTextExplainer, LimeTabularExplainer, LimeImageExplainer
"""

from whylens.lime._image import LimeImageExplainer, SegmentationAlgorithm
from whylens.lime._solver import (
    FEATURE_SELECTION,
    LimeSolver,
    SurrogateFit,
    exponential_kernel,
)
from whylens.lime._submodular import SubmodularPick, submodular_pick
from whylens.lime._tabular import LimeTabularExplainer
from whylens.lime._text import LimeTextExplainer

__all__ = [
    "FEATURE_SELECTION",
    "LimeImageExplainer",
    "LimeSolver",
    "LimeTabularExplainer",
    "LimeTextExplainer",
    "SegmentationAlgorithm",
    "SubmodularPick",
    "SurrogateFit",
    "exponential_kernel",
    "submodular_pick",
]
