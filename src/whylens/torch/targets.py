"""pytorch-grad-cam's targets: what score of a model's output a CAM explains.

A target is a callable ``target(output_row) -> score`` applied to each
image's own output (pytorch-grad-cam's contract), so code written for
``pytorch_grad_cam.utils.model_targets`` runs with only the import changed:

>>> from whylens.torch import GradCAM
>>> from whylens.torch.targets import ClassifierOutputTarget
>>> with GradCAM(model=model, target_layers=[model.layer4[-1]]) as cam:  # doctest: +SKIP
...     grayscale_cam = cam(input_tensor=x, targets=[ClassifierOutputTarget(281)])

A list of :class:`ClassifierOutputTarget` is run as whylens' ``target=`` (one
class per row); any other callable is differentiated as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens.errors import InputError, InputTypeError, describe

__all__ = [
    "BinaryClassifierOutputTarget",
    "ClassifierOutputSoftmaxTarget",
    "ClassifierOutputTarget",
    "SemanticSegmentationTarget",
]


def _category(category: Any) -> int:
    if isinstance(category, bool) or not isinstance(category, (int, np.integer)):
        raise InputTypeError(describe("category", "an int (an output index)", category))
    if category < 0:
        raise InputError(describe("category", "an output index >= 0", category))
    return int(category)


class _CategoryTarget:
    """A target of one output index, ``category`` (checked to be an int >= 0)."""

    def __init__(self, category: int) -> None:
        self.category = _category(category)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.category})"


def _at(scores: Tensor, category: int) -> Tensor:
    """``scores[category]`` of one output row, ``scores[:, category]`` of a batch (2-D)."""
    return scores[category] if scores.ndim == 1 else scores[:, category]


class ClassifierOutputTarget(_CategoryTarget):
    """The output of class ``category``: ``output[category]`` (``output[:, category]`` for 2-D).

    Parameters
    ----------
    category : int
    """

    def __call__(self, model_output: Tensor) -> Tensor:
        return _at(model_output, self.category)


class ClassifierOutputSoftmaxTarget(_CategoryTarget):
    """The soft-max probability of class ``category``: ``softmax(output)[category]``.

    Parameters
    ----------
    category : int
    """

    def __call__(self, model_output: Tensor) -> Tensor:
        return _at(torch.softmax(model_output, dim=-1), self.category)


class BinaryClassifierOutputTarget(_CategoryTarget):
    """A one-output binary classifier: the output for ``category=1``, its negative for 0."""

    def __call__(self, model_output: Tensor) -> Tensor:
        return model_output * (1 if self.category == 1 else -1)


class SemanticSegmentationTarget(_CategoryTarget):
    """Sum of class ``category``'s scores over the pixels of ``mask`` (segmentation models).

    ``(output[category] * mask).sum()`` for a model whose output per image is
    ``(n_classes, H, W)``.

    Parameters
    ----------
    category : int
    mask : ndarray or Tensor of shape (H, W)
        Which pixels count (0/1 or weights).

    Raises
    ------
    InputTypeError
        A mask that is neither an array nor a tensor.
    InputError
        A mask that is not 2-D.
    """

    def __init__(self, category: int, mask: Any) -> None:
        super().__init__(category)
        if isinstance(mask, np.ndarray):
            mask = torch.from_numpy(np.ascontiguousarray(mask))
        if not isinstance(mask, Tensor):
            raise InputTypeError(describe("mask", "an ndarray or tensor of shape (H, W)", mask))
        if mask.ndim != 2:
            raise InputError(describe("mask", "a 2-D mask (H, W)",
                                      got_text=f"shape {tuple(mask.shape)}"))
        self.mask = mask

    def __repr__(self) -> str:
        return f"SemanticSegmentationTarget({self.category}, mask={tuple(self.mask.shape)})"

    def __call__(self, model_output: Tensor) -> Tensor:
        mask = self.mask.to(device=model_output.device, dtype=model_output.dtype)
        return (model_output[self.category, :, :] * mask).sum()
