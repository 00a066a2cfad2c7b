"""``layers``: every named layer of a network with its kind and output shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch.nn import Module

import torch
from torch import Tensor
from whylens.errors import InputError, describe
from whylens.torch._hooks import check_same_device, model_lock, restore_state, snapshot_state

__all__ = ["LayerInfo", "default_layer", "layers"]


@dataclass(frozen=True)
class LayerInfo:
    """One named layer of a network, as seen on an example input.

    Attributes
    ----------
    name : str
        Its name in ``model.named_modules()``.
    kind : str
        Its class name, e.g. ``"Conv2d"``.
    output_shape : tuple of int or None
        Shape of its output on the example input (batch dimension included);
        ``None`` when the output is not one tensor or the layer was not called.
    spatial : bool
        Whether the output is ``(n, C, L)`` or ``(n, C, H, W)`` with more than
        one position: a layer a CAM can explain.
    n_params : int
        Number of parameters it owns (its submodules' included).
    order : int
        Position in the order the forward pass finished the layers; ``-1`` if
        the layer was not called.
    """

    name: str
    kind: str
    output_shape: tuple[int, ...] | None
    spatial: bool
    n_params: int
    order: int

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """The output's spatial shape (``()`` when not spatial)."""
        if not self.spatial or self.output_shape is None:
            return ()
        return tuple(self.output_shape[2:])


def _is_spatial(shape: tuple[int, ...] | None) -> bool:
    if shape is None or len(shape) not in (3, 4):
        return False
    positions = 1
    for s in shape[2:]:
        positions *= s
    return positions > 1


def layers(model: Module, example_input: Tensor) -> list[LayerInfo]:
    """List every named layer of ``model`` with its output shape on ``example_input``.

    One forward pass (eval mode, no gradients) with a forward hook on every
    submodule, holding the model's lock; hooks are removed and training flags
    restored afterwards.

    Parameters
    ----------
    model : torch.nn.Module
    example_input : Tensor of shape (n, ...)
        A batch the model accepts (one row is enough).

    Returns
    -------
    list of LayerInfo
        In ``named_modules()`` order (the model itself excluded).

    Raises
    ------
    InputError
        If the input is on another device than the model.
    """
    return _trace(model, example_input)[0]


def _trace(model: Module, example_input: Tensor) -> tuple[list[LayerInfo], dict[str, int]]:
    """:func:`layers`, and each layer's output storage address."""
    check_same_device(model, example_input, "example_input")
    named = [(n, m) for n, m in model.named_modules() if n]
    shapes: dict[str, tuple[int, ...] | None] = {}
    order: dict[str, int] = {}
    storage: dict[str, int] = {}

    counter = [0]

    def make_hook(name: str) -> Any:
        def hook(module: Module, inputs: Any, output: Any) -> None:
            shapes[name] = tuple(output.shape) if isinstance(output, torch.Tensor) else None
            order[name] = counter[0]  # a reused module keeps its last completion
            if isinstance(output, torch.Tensor):
                storage[name] = output.data_ptr()
            counter[0] += 1

        return hook

    with model_lock(model):  # hooks and flags on a model shared with other threads
        state = snapshot_state(model)
        handles = []
        try:
            model.eval()
            for name, module in named:
                handles.append(module.register_forward_hook(make_hook(name)))
            with torch.no_grad():
                model(example_input)
        finally:
            for handle in handles:
                handle.remove()
            restore_state(state)
    out = []
    for name, module in named:
        shape = shapes.get(name)
        out.append(LayerInfo(
            name=name, kind=type(module).__name__, output_shape=shape,
            spatial=_is_spatial(shape),
            n_params=sum(p.numel() for p in module.parameters()),
            order=order.get(name, -1),
        ))
    return out, storage


def default_layer(model: Module, example_input: Tensor) -> str:
    """Name of the default CAM layer: the last spatial layer the forward finishes.

    Chosen by shapes, not names: among layers whose output is ``(n, C, *spatial)``
    with more than one position, the one completed last (in a CNN, the last
    block before global pooling).

    Raises
    ------
    InputError
        If no layer has a spatial output.
    """
    traced, storage = _trace(model, example_input)
    infos = [i for i in traced if i.spatial and i.order >= 0]
    if not infos:
        raise InputError(
            describe("layer", "a model with a spatial layer ((n, C, L) or (n, C, H, W) output)",
                     got_text=f"no spatial layer in {type(model).__name__}",
                     fix="CAMs need a convolutional layer; pass layer=... explicitly.")
        )
    last = max(infos, key=lambda i: i.order)
    # A container returns its last child's tensor: name that child (innermost).
    while True:
        inner = [i for i in infos if i.name.startswith(last.name + ".")
                 and storage.get(i.name) == storage.get(last.name)]
        if not inner:
            return last.name
        last = max(inner, key=lambda i: i.order)
