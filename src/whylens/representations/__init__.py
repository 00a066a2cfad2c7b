"""Representations: map interpretable masks to real model inputs, a chunk at a time.

:class:`Representation` is the protocol; :func:`evaluate` is the one runner
that every perturbation method uses (masks -> ``apply`` in chunks -> model).
"""

from whylens.representations._protocol import Representation
from whylens.representations._runner import evaluate, evaluate_rows
from whylens.representations.image import ImageRepresentation, SegmentationAlgorithm
from whylens.representations.masking import TabularBackground, TabularRepresentation
from whylens.representations.tabular import TabularSampler
from whylens.representations.text import TextRepresentation
from whylens.representations.token_ids import (
    EncodedText,
    TokenIdMasking,
    TokenIdRepresentation,
)

__all__ = [
    "EncodedText",
    "ImageRepresentation",
    "Representation",
    "SegmentationAlgorithm",
    "TabularBackground",
    "TabularRepresentation",
    "TabularSampler",
    "TextRepresentation",
    "TokenIdMasking",
    "TokenIdRepresentation",
    "evaluate",
    "evaluate_rows",
]
