"""The gradient attributions by name: ``GRADIENT_METHODS`` and :func:`attribution`.

The methods live one family per module (captum's layout): the base in
:mod:`~whylens.torch._attribution` (its runner in ``_runner``, its argument
checks in ``_attribution_args``, captum's call in ``_attribution_peer``),
then ``_saliency``, ``_integrated_gradients``, ``_gradient_shap``,
``_noise_tunnel`` and ``_deeplift``.
"""

from __future__ import annotations

from typing import Any

from whylens.errors import InputError, describe
from whylens.torch._attribution import GradientAttribution
from whylens.torch._deeplift import DeepLift, DeepShap, LayerDeepLift, LayerDeepShap
from whylens.torch._gradient_shap import GradientShap, LayerGradientShap
from whylens.torch._integrated_gradients import IntegratedGradients, LayerIntegratedGradients
from whylens.torch._noise_tunnel import SmoothGrad
from whylens.torch._saliency import Deconvolution, GuidedBackprop, InputXGradient, Saliency

__all__ = ["GRADIENT_METHODS", "attribution"]

GRADIENT_METHODS: dict[str, type[GradientAttribution]] = {
    cls.name: cls
    for cls in (Saliency, InputXGradient, IntegratedGradients, SmoothGrad, GuidedBackprop,
                Deconvolution, DeepLift, DeepShap, GradientShap, LayerIntegratedGradients,
                LayerGradientShap, LayerDeepLift, LayerDeepShap)
}

#: Layer variants picked when a ``layer`` is given.
_LAYER_VARIANTS = ("integratedgradients", "gradientshap", "deeplift", "deepshap")


def attribution(method: str, model: Any, layer: Any = None, **kwargs: Any
                ) -> GradientAttribution:
    """Build a gradient attribution by name (the workbench calls it with plain parameters).

    Parameters
    ----------
    method : str
        One of ``GRADIENT_METHODS`` (``"saliency"``, ``"integratedgradients"``,
        ``"ig"``, ``"smoothgrad"``, ``"deeplift"``, ``"deepshap"``, ...).
        With a ``layer``, ``"integratedgradients"``, ``"gradientshap"``,
        ``"deeplift"`` and ``"deepshap"`` give the layer variants.
    model : torch.nn.Module
    layer : str or torch.nn.Module, optional
    **kwargs
        The method's parameters (``batch_size``, ``memory_budget``,
        ``random_state``, ...).

    Returns
    -------
    GradientAttribution

    Raises
    ------
    InputError
        An unknown method, or a layer for an input-only method.
    """
    key = str(method).lower().replace("_", "").replace("-", "").replace(" ", "")
    key = {"ig": "integratedgradients", "inputxgrad": "inputxgradient",
           "gradshap": "gradientshap", "guided": "guidedbackprop"}.get(key, key)
    if layer is not None and key in _LAYER_VARIANTS:
        key = "layer" + key
    if key not in GRADIENT_METHODS:
        raise InputError(describe("method", f"one of {sorted(GRADIENT_METHODS)}", method))
    cls = GRADIENT_METHODS[key]
    if cls.is_layer_method:
        return cls(model, layer, **kwargs)  # type: ignore[call-arg]
    if layer is not None:
        raise InputError(describe("layer", f"None for the input method {key!r}", layer,
                                  "Layer variants: " + ", ".join(_LAYER_VARIANTS) + "."))
    return cls(model, **kwargs)
