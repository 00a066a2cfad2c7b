"""PyTorch tools: layers, the hook manager, CAMs, feature maps, filter patterns and
gradient attributions (one method family per module, as captum's ``attr/_core``).

Importing this module imports torch (``pip install "whylens[torch]"``);
``import whylens`` alone never does.

>>> from whylens.torch import GradCAM, layers
>>> exp = GradCAM(model)(x)  # doctest: +SKIP
"""

from whylens.errors import MissingDependencyError

try:
    import torch as _torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(
        "whylens.torch: expected torch to be installed, got ImportError. "
        'Install it with: pip install "whylens[torch]" (torch==2.13.0).'
    ) from exc

from whylens.torch._attribution import GradientAttribution
from whylens.torch._cams import (
    CAM_METHODS,
    AblationCAM,
    BaseCAM,
    CAMContext,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    ScoreCAM,
    cam,
    upsample,
)
from whylens.torch._deeplift import DeepLift, DeepShap, LayerDeepLift, LayerDeepShap
from whylens.torch._feature_maps import feature_maps
from whylens.torch._filter_patterns import filter_patterns
from whylens.torch._gradient_shap import GradientShap, LayerGradientShap
from whylens.torch._gradients import GRADIENT_METHODS, attribution
from whylens.torch._hooks import StopForward, capture, check_same_device, get_layer
from whylens.torch._integrated_gradients import (
    IntegratedGradients,
    LayerIntegratedGradients,
    path_weights,
)
from whylens.torch._layers import LayerInfo, default_layer, layers
from whylens.torch._noise_tunnel import NoiseTunnel, SmoothGrad
from whylens.torch._reshape import swint_reshape_transform, vit_reshape_transform
from whylens.torch._saliency import Deconvolution, GuidedBackprop, InputXGradient, Saliency

__all__ = [
    "CAM_METHODS",
    "GRADIENT_METHODS",
    "AblationCAM",
    "BaseCAM",
    "CAMContext",
    "Deconvolution",
    "DeepLift",
    "DeepShap",
    "EigenCAM",
    "GradCAM",
    "GradCAMPlusPlus",
    "GradientAttribution",
    "GradientShap",
    "GuidedBackprop",
    "HiResCAM",
    "InputXGradient",
    "IntegratedGradients",
    "LayerCAM",
    "LayerDeepLift",
    "LayerDeepShap",
    "LayerGradientShap",
    "LayerInfo",
    "LayerIntegratedGradients",
    "NoiseTunnel",
    "Saliency",
    "ScoreCAM",
    "SmoothGrad",
    "StopForward",
    "attribution",
    "cam",
    "capture",
    "check_same_device",
    "default_layer",
    "feature_maps",
    "filter_patterns",
    "get_layer",
    "layers",
    "path_weights",
    "swint_reshape_transform",
    "upsample",
    "vit_reshape_transform",
]
