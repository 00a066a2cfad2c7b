"""Class activation maps: the Grad-CAM family on one base class.

Every CAM runs the model with the layer's activations captured, then turns
them into one map per instance and label in :meth:`BaseCAM.compute`, the one
override point (:mod:`whylens.torch._cam_base`). This module holds the
gradient CAMs and the factory; Score-CAM, Ablation-CAM and Eigen-CAM are in
:mod:`whylens.torch._cams_perturbation`, and every name stays importable from
here.

=====================  ===================================================
class                  map (before ReLU), A = activations (C, *spatial)
=====================  ===================================================
GradCAM                sum_k mean(dy/dA_k) A_k
GradCAMPlusPlus        sum_k (sum_ij relu(g_kij) a_kij) A_k, a = Eq. 19
HiResCAM               sum_k (dy/dA_k) * A_k
LayerCAM               sum_k relu(dy/dA_k) * A_k
ScoreCAM               sum_k softmax_k(y(x * norm(up(A_k)))) A_k
AblationCAM            sum_k (y - y(A_k := 0)) / y  A_k
EigenCAM               projection of A on its first principal component
=====================  ===================================================
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from whylens.errors import InputError, describe
from whylens.torch._cam_base import BaseCAM
from whylens.torch._cam_context import CAMContext
from whylens.torch._cams_perturbation import (
    AblationCAM,
    ChannelPerturbation,
    EigenCAM,
    ScoreCAM,
)
from whylens.torch._inputs import weighted_sum
from whylens.torch._upsample import upsample

__all__ = [
    "CAM_METHODS",
    "AblationCAM",
    "BaseCAM",
    "CAMContext",
    "ChannelPerturbation",
    "EigenCAM",
    "GradCAM",
    "GradCAMPlusPlus",
    "HiResCAM",
    "LayerCAM",
    "ScoreCAM",
    "cam",
    "upsample",
]

_EPS = 1e-7
_PP_EPS = 1e-6  # pytorch-grad-cam's in Grad-CAM++'s denominator


class GradCAM(BaseCAM):
    """Grad-CAM (Selvaraju et al., 2017): channel weights are the mean gradients.

    ``map = relu(sum_k mean_ij(dy/dA_kij) A_k)``.
    """

    name = "gradcam"

    def compute(self, ctx: CAMContext) -> Tensor:
        grads = ctx.gradients()  # (n, L, C, *sp)
        weights = grads.flatten(3).mean(dim=3)
        return weighted_sum(weights, ctx.activations)


class GradCAMPlusPlus(BaseCAM):
    """Grad-CAM++ (Chattopadhay et al., 2018), weights from their Eq. 19.

    ``a_kij = g² / (2 g² + sum_ij(A_k) g³ + 1e-6)`` (0 where g = 0; the 1e-6 is
    pytorch-grad-cam's, so the maps equal its maps),
    ``w_k = sum_ij relu(g_kij) a_kij``, ``map = relu(sum_k w_k A_k)``.
    """

    name = "gradcam++"

    def compute(self, ctx: CAMContext) -> Tensor:
        g = ctx.gradients().flatten(3)  # (n, L, C, P)
        acts = ctx.activations
        total = acts.flatten(2).sum(dim=2)[:, None, :, None]  # (n, 1, C, 1)
        g2 = g * g
        denom = 2 * g2 + total * g2 * g
        alpha = torch.where(g != 0, g2 / (denom + _PP_EPS), 0.0)
        weights = (torch.relu(g) * alpha).sum(dim=3)
        return weighted_sum(weights, acts)


class HiResCAM(BaseCAM):
    """HiResCAM (Draelos & Carin, 2020): ``map = relu(sum_k dy/dA_k * A_k)``."""

    name = "hirescam"

    def compute(self, ctx: CAMContext) -> Tensor:
        return (ctx.gradients() * ctx.activations[:, None]).sum(dim=2)


class LayerCAM(BaseCAM):
    """LayerCAM (Jiang et al., 2021): ``map = relu(sum_k relu(dy/dA_k) * A_k)``."""

    name = "layercam"

    def compute(self, ctx: CAMContext) -> Tensor:
        return (torch.relu(ctx.gradients()) * ctx.activations[:, None]).sum(dim=2)


CAM_METHODS: dict[str, type[BaseCAM]] = {
    cls.name: cls
    for cls in (GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM, AblationCAM, EigenCAM)
}


def cam(method: str, model: Any, layer: Any = None, **kwargs: Any) -> BaseCAM:
    """Build a CAM by name (a factory; the workbench calls it with plain parameters).

    Parameters
    ----------
    method : {"gradcam", "gradcam++", "hirescam", "layercam", "scorecam", "ablationcam", \
"eigencam"}
    model, layer, **kwargs
        As :class:`BaseCAM`.

    Returns
    -------
    BaseCAM

    Raises
    ------
    InputError
        An unknown method name (the message lists the known ones).
    """
    key = str(method).lower().replace("_", "").replace("-", "")
    key = {"gradcamplusplus": "gradcam++", "gradcampp": "gradcam++"}.get(key, key)
    if key not in CAM_METHODS:
        raise InputError(describe("method", f"one of {sorted(CAM_METHODS)}", method))
    return CAM_METHODS[key](model, layer, **kwargs)


