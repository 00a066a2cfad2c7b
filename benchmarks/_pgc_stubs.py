"""Tiny local stand-ins for the modules pytorch-grad-cam imports but the benchmark never uses.

pytorch-grad-cam 1.5.7 imports torchvision, ttach and cv2 at module level. We
install it with ``pip install --no-deps grad-cam`` (torchvision would pull
another torch build), so this module registers minimal stand-ins in
``sys.modules`` before ``pytorch_grad_cam`` is imported. Only what the timed
code paths call does anything: ``cv2.resize`` (bilinear, pixel centres
aligned, as cv2's INTER_LINEAR) used by ``scale_cam_image``. Everything else
raises if called. Used by ``benchmarks/bench_cam.py`` only; never by whylens.
"""

from __future__ import annotations

import importlib.util
import sys
import types

import numpy as np


def _unused(name: str):
    def fail(*args, **kwargs):
        raise RuntimeError(f"{name} is a benchmark stand-in and is not implemented")
    return fail


def _cv2() -> types.ModuleType:
    import torch.nn.functional as F

    import torch

    cv2 = types.ModuleType("cv2")

    def resize(img, size, interpolation=None):
        w, h = size
        t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))
        if t.ndim == 2:
            out = F.interpolate(t[None, None], size=(h, w), mode="bilinear",
                                align_corners=False)[0, 0]
        else:
            out = F.interpolate(t.permute(2, 0, 1)[None], size=(h, w), mode="bilinear",
                                align_corners=False)[0].permute(1, 2, 0)
        return out.numpy()

    cv2.resize = resize
    cv2.COLORMAP_JET = 2
    for name in ("applyColorMap", "cvtColor", "GaussianBlur", "threshold", "Sobel",
                 "convertScaleAbs", "addWeighted"):
        setattr(cv2, name, _unused(f"cv2.{name}"))
    return cv2


def _torchvision() -> types.ModuleType:
    tv = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    ops = types.ModuleType("torchvision.ops")
    for name in ("Compose", "Normalize", "ToTensor"):
        setattr(transforms, name, _unused(f"torchvision.transforms.{name}"))
    functional.resize = _unused("torchvision.transforms.functional.resize")
    ops.box_iou = _unused("torchvision.ops.box_iou")
    transforms.functional = functional
    tv.transforms, tv.ops = transforms, ops
    sys.modules.update({"torchvision.transforms": transforms,
                        "torchvision.transforms.functional": functional,
                        "torchvision.ops": ops})
    return tv


class _Inert:
    """Built by pytorch-grad-cam's constructor (test-time augmentation), never used here."""

    def __init__(self, *args, **kwargs):
        pass


def _ttach() -> types.ModuleType:
    tta = types.ModuleType("ttach")
    for name in ("Compose", "HorizontalFlip", "Multiply"):
        setattr(tta, name, type(name, (_Inert,), {}))
    return tta


def install() -> list[str]:
    """Register the stand-ins for whichever of cv2, torchvision, ttach is missing.

    Returns
    -------
    list of str
        The module names that were stubbed.
    """
    stubbed = []
    for name, build in (("cv2", _cv2), ("torchvision", _torchvision), ("ttach", _ttach)):
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            sys.modules[name] = build()
            stubbed.append(name)
    return stubbed
