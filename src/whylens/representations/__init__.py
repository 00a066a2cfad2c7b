"""Representations: map interpretable masks to real model inputs, a chunk at a time."""

from whylens.representations.image import ImageRepresentation, SegmentationAlgorithm
from whylens.representations.tabular import TabularSampler
from whylens.representations.text import TextRepresentation

__all__ = ["ImageRepresentation", "SegmentationAlgorithm", "TabularSampler",
           "TextRepresentation"]
