"""Representations: map interpretable masks to real model inputs, a chunk at a time."""

from whylens.representations.image import ImageRepresentation, SegmentationAlgorithm
from whylens.representations.tabular import TabularSampler
from whylens.representations.text import TextRepresentation
from whylens.representations.token_ids import EncodedText, TokenIdRepresentation

__all__ = ["EncodedText", "ImageRepresentation", "SegmentationAlgorithm", "TabularSampler",
           "TextRepresentation", "TokenIdRepresentation"]
