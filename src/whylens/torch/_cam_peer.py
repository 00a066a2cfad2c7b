"""The peers' call shapes of every CAM: pytorch-grad-cam's ``cam(input_tensor=, targets=)``
and captum's ``LayerGradCam.attribute``, as a base class of :class:`~whylens.torch.BaseCAM`.

Both run the CAM's own pass (``self._explain``) and only change how the
answer is shaped: pytorch-grad-cam's (N, H, W) float32 maps scaled to [0, 1]
per image (averaged over ``target_layers``, optional test-time augmentation),
captum's (n, 1, *layer_spatial) tensor on the input's device.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens.errors import NotSupportedError, describe
from whylens.torch._inputs import as_input

__all__ = ["PeerCalls"]


class PeerCalls:
    """pytorch-grad-cam's and captum's call shapes for a CAM (see the module docstring)."""

    # ------------------------------------------------------------------ pytorch-grad-cam
    def _with_layer(self, name: str) -> Any:
        one = copy.copy(self)
        one.layer, one.layers = name, None
        return one

    def _peer_call(self, x: Any, targets: Any, aug_smooth: bool, eigen_smooth: bool,
                   progress: bool | None, callback: Any) -> np.ndarray:
        """pytorch-grad-cam's ``cam(input_tensor, targets)``: (N, H, W) float32 in [0, 1]."""
        from whylens.torch._peer import check_target_objects
        from whylens.torch.targets import ClassifierOutputTarget

        if eigen_smooth:
            raise NotSupportedError(describe(
                "eigen_smooth", "False (whylens has no eigen smoothing of weighted "
                "activations)", True, "Use EigenCAM for the first principal component."))
        x = as_input(x)
        objects = check_target_objects(targets, int(x.shape[0]))
        target, callables = None, None
        if objects is not None:
            if all(isinstance(t, (int, np.integer, ClassifierOutputTarget)) for t in objects):
                target = [int(getattr(t, "category", t)) for t in objects]
            else:
                callables = objects
        if not aug_smooth:
            return self._peer_maps(x, target, callables, progress, callback)
        # pytorch-grad-cam's test-time augmentation (ttach): horizontal flip x brightness
        maps = []
        for flip in (False, True):
            for factor in (0.9, 1.0, 1.1):
                xa = x.flip(-1) if flip else x
                m = self._peer_maps(xa * factor, target, callables, progress, callback)
                maps.append(m[..., ::-1] if flip else m)
        return np.mean(np.float32(maps), axis=0)

    def _peer_maps(self, x: Tensor, target: Any, callables: list[Any] | None,
                   progress: bool | None, callback: Any) -> np.ndarray:
        from whylens.torch._peer import pgc_scale

        names = self.layers if self.layers is not None else [self.layer]
        per_layer = []
        for name in names:
            cam = self if name == self.layer and len(names) == 1 else self._with_layer(name)
            r = cam._explain(x, target, None, progress, callback, targets=callables)
            if self.layer is None:
                self.layer = cam.layer  # chosen on the first call
            per_layer.append(pgc_scale(torch.relu(r.maps[:, 0]), r.input_shape))
        out = torch.from_numpy(r.output)
        # pytorch-grad-cam's cam.outputs: the model's outputs at the last call's images
        self.outputs = out.to(x.dtype) if x.is_floating_point() else out
        stacked = np.maximum(np.stack(per_layer, axis=1), 0)
        return pgc_scale(torch.from_numpy(stacked.mean(axis=1)), None)

    # ------------------------------------------------------------------ captum
    def attribute(self, inputs: Any, target: Any = None, additional_forward_args: Any = None,
                  attribute_to_layer_input: bool = False, relu_attributions: bool = False,
                  attr_dim_summation: bool = True, grad_kwargs: Any = None) -> Any:
        """captum's ``LayerGradCam(model, layer).attribute``: the map at the layer.

        Parameters
        ----------
        inputs : Tensor of shape (n, ...) or a 1-tuple of it
        target : int, sequence of n ints or None
            As the call (None: each row's top class; captum needs one output).
        additional_forward_args : object or tuple, optional
            Passed to the model after the input (tensors with n rows are paired
            with their row).
        relu_attributions : bool, default=False
            ReLU the map (captum's default keeps its sign; whylens' call ReLUs).
        attribute_to_layer_input, attr_dim_summation, grad_kwargs
            captum's; only their defaults are supported.

        Returns
        -------
        Tensor of shape (n, 1, *layer_spatial)
            On the input's device (a 1-tuple of it when ``inputs`` was one).

        Raises
        ------
        NotSupportedError
            Several inputs, or a captum option other than its default.
        """
        from whylens.torch._peer import (
            captum_inputs,
            check_captum_flag,
            rows_of,
            run_with_args,
        )

        check_captum_flag("attribute_to_layer_input", attribute_to_layer_input, False)
        check_captum_flag("attr_dim_summation", attr_dim_summation, True)
        check_captum_flag("grad_kwargs", grad_kwargs, None)
        x, as_tuple = captum_inputs(inputs)
        x = as_input(x)
        n = int(x.shape[0])
        if isinstance(target, Tensor) and target.ndim == 0:
            target = int(target)

        def call(rows: slice) -> tuple[Tensor, None]:
            r = self._explain(x[rows], rows_of(target, rows, n), None, False, None,
                              relu=bool(relu_attributions))
            return r.maps, None

        maps, _ = run_with_args(self.model, n, additional_forward_args, call)
        maps = maps.detach().to(x.device)
        return (maps,) if as_tuple else maps
