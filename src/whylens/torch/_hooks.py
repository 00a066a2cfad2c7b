"""One hook manager for every gradient method: activations and gradients of named layers.

:class:`capture` is a context manager. On entry it records the model's
training flags and every parameter's ``requires_grad``, puts the model in eval
mode and registers one forward hook per requested layer. On exit, also when an
exception was raised, it removes every hook it registered and restores the
flags. Nothing is swallowed and nothing relies on ``__del__``.

How activations are captured: the forward hook keeps a copy of the layer's
output, so an in-place operation that follows (``ReLU(inplace=True)``) cannot
change what was captured. With ``gradients=True`` the hook returns, in place
of the layer's output, a copy that hangs off a fresh leaf tensor;
:meth:`capture.gradients` then differentiates the model's output with
``torch.autograd.grad`` with respect to that leaf. So backward runs only from
the output back to the layer, no parameter's ``.grad`` is touched, and module
backward hooks (which break on in-place operations) are never used. A module
called several times in one forward (a shared block) gets one record per call.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from torch.nn import Module

import torch
from torch import Tensor
from whylens._locks import model_lock
from whylens.errors import InputError, InputTypeError, NotSupportedError, describe

__all__ = [
    "StopForward",
    "capture",
    "check_module_and_layer",
    "check_same_device",
    "get_layer",
    "model_lock",
    "restore_state",
    "snapshot_state",
]


class StopForward(Exception):
    """Raised by a ``capture(stop=True)`` hook to end a forward at the layer."""


def check_module_and_layer(model: Any, layer: Any) -> Any:
    """Check that ``model`` is a ``torch.nn.Module`` and resolve ``layer`` in it.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str, torch.nn.Module or None

    Returns
    -------
    str or None
        The layer's name in ``model`` (None when ``layer`` is None).

    Raises
    ------
    InputTypeError
        ``model`` is not a module (or ``layer`` neither a name nor a module).
    InputError
        No such layer (see :func:`get_layer`).
    """
    if not isinstance(model, torch.nn.Module):
        raise InputTypeError(describe("model", "a torch.nn.Module", model))
    return None if layer is None else get_layer(model, layer)[0]


def get_layer(model: Module, layer: str | Module) -> tuple[str, Module]:
    """Return ``(name, module)`` for a layer given by name or as a submodule.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
        A name from ``model.named_modules()`` (e.g. ``"features.3.conv"``) or
        the submodule itself.

    Returns
    -------
    name : str
    module : torch.nn.Module

    Raises
    ------
    InputError
        If no layer has that name (the message lists the closest names) or the
        module is not part of ``model``.
    InputTypeError
        If ``layer`` is neither a str nor a module.
    """
    named = dict(model.named_modules())
    if isinstance(layer, str):
        if layer in named and layer != "":
            return layer, named[layer]
        names = [n for n in named if n]
        close = difflib.get_close_matches(layer, names, n=5, cutoff=0.5)
        hint = (f"Closest names: {', '.join(close)}." if close
                else f"Layer names start: {', '.join(names[:8])}.")
        raise InputError(
            describe("layer", f"the name of a submodule of {type(model).__name__}", layer,
                     hint + " See whylens.torch.layers(model, x) for every layer.")
        )
    if isinstance(layer, torch.nn.Module):
        for name, module in named.items():
            if module is layer and name:
                return name, module
        raise InputError(
            describe("layer", f"a submodule of {type(model).__name__}",
                     got_text=f"a {type(layer).__name__} that is not part of the model")
        )
    raise InputTypeError(describe("layer", "a layer name (str) or a submodule", layer))


def snapshot_state(model: Module) -> tuple[list[tuple[Module, bool]], list[tuple[Tensor, bool]]]:
    """Record every submodule's training flag and every parameter's ``requires_grad``."""
    flags = [(m, m.training) for m in model.modules()]
    grads = [(p, p.requires_grad) for p in model.parameters()]
    return flags, grads


def restore_state(state: tuple[list[tuple[Module, bool]], list[tuple[Tensor, bool]]]) -> None:
    """Undo :func:`snapshot_state`'s record: flags and ``requires_grad`` as they were."""
    flags, grads = state
    for module, flag in flags:
        module.training = flag
    for param, flag in grads:
        if param.requires_grad != flag:
            param.requires_grad_(flag)


def check_same_device(model: Module, x: Tensor, argument: str = "x") -> None:
    """Raise if ``x`` is a tensor on another device than the model's parameters.

    Raises
    ------
    InputError
        Naming both devices and the fix.
    """
    from whylens.models._torch import module_device

    device = module_device(model)
    if getattr(x, "device", device) != device:
        raise InputError(
            describe(argument, f"a tensor on the model's device ({device})",
                     got_text=f"a tensor on {x.device}",
                     fix=f"Move one of them: {argument}.to({str(device)!r}) or model.to(...).")
        )


class capture:
    """Capture activations (and gradients) of named layers during forwards.

    Parameters
    ----------
    model : torch.nn.Module
    layers : str, module, or sequence of them
        Layers to capture, by name or as submodules.
    gradients : bool, default=False
        Prepare gradients: each captured activation is a leaf the model's
        output can be differentiated against (see :meth:`gradients`).
    eval : bool, default=True
        Put the model in eval mode inside the block (restored on exit).
    replace : callable, optional
        ``replace(name, output) -> tensor``: what the layer passes on instead
        of its output (AblationCAM zeroes channels this way). Applied after the
        activation is recorded.
    record : bool, default=True
        Keep the activations; ``False`` when only ``replace`` is wanted.
    graph : bool, default=False
        Keep activations attached to the autograd graph (to differentiate them
        with respect to the input, as filter patterns do). The layer passes on
        a copy, so an in-place operation downstream leaves them as they were.
    stop : bool or int, default=False
        Stop the forward pass as soon as the (first) layer has run: the forward
        raises :class:`StopForward`, which :meth:`run` catches. An int ``k``
        stops after the layer's ``k``-th call in the forward (a shared block
        called several times: its last call).

    Attributes
    ----------
    names : list of str
        The captured layers' names.
    activations : dict of str to list of Tensor
        Per layer, one ``(n, C, *spatial)`` tensor per call of the layer.

    Examples
    --------
    >>> with capture(model, "features.3", gradients=True) as cap:  # doctest: +SKIP
    ...     out = model(x)
    ...     grads = cap.gradients(out[:, 3].sum())
    """

    def __init__(self, model: Any, layers: Any, gradients: bool = False, eval: bool = True,
                 replace: Any = None, record: bool = True, graph: bool = False,
                 stop: bool = False) -> None:
        if isinstance(layers, str) or hasattr(layers, "named_modules") \
                or not isinstance(layers, Iterable):
            layers = [layers]  # one layer (a Sequential is iterable, but one layer here)
        resolved = [get_layer(model, layer) for layer in layers]
        self.model = model
        self.names = [name for name, _ in resolved]
        self._modules = [module for _, module in resolved]
        self.want_gradients = bool(gradients)
        self.eval = bool(eval)
        self.replace = replace
        self.record = bool(record) or self.want_gradients
        self.graph = bool(graph)
        self.stop = int(stop)  # 0: never; k: after the layer's k-th call in a forward
        self._calls = 0
        self.activations: dict[str, list[Any]] = {name: [] for name in self.names}
        self._handles: list[Any] = []
        self._state: Any = None
        self._lock: threading.RLock | None = None

    def _hook_for(self, name: str) -> Any:
        def hook(module: Module, inputs: Any, output: Tensor) -> Tensor | None:
            if not isinstance(output, torch.Tensor):
                raise NotSupportedError(
                    describe("layer", "a layer whose output is one tensor",
                             got_text=f"{name!r} returning {type(output).__name__}",
                             fix="Pick a layer inside it (see whylens.torch.layers).")
                )
            if self.graph:
                self.activations[name].append(output)
                passed = output.clone()
            elif self.want_gradients:
                leaf = output.detach().requires_grad_(True)
                self.activations[name].append(leaf)
                passed = leaf.clone()  # in-place ops downstream act on this copy
            else:
                if self.record:
                    self.activations[name].append(output.detach().clone())
                passed = None
            if self.replace is not None:
                passed = self.replace(name, output if passed is None else passed)
            if self.stop:
                self._calls += 1
                if self._calls >= self.stop:
                    self._calls = 0
                    raise StopForward
            return passed

        return hook

    def __enter__(self) -> capture:
        self._lock = model_lock(self.model)
        self._lock.acquire()
        try:
            self._state = snapshot_state(self.model)
        except BaseException:
            self._lock.release()
            raise
        try:
            if self.eval:
                self.model.eval()
            for name, module in zip(self.names, self._modules, strict=True):
                self._handles.append(module.register_forward_hook(self._hook_for(name)))
        except BaseException:
            self._close()
            raise
        return self

    def _close(self) -> None:
        try:
            for handle in self._handles:
                handle.remove()
            self._handles.clear()
        finally:
            try:
                if self._state is not None:
                    restore_state(self._state)
                    self._state = None
            finally:
                lock, self._lock = self._lock, None
                if lock is not None:
                    lock.release()

    def __exit__(self, *exc: Any) -> None:
        self._close()

    def run(self, x: Tensor) -> Tensor | None:
        """Call the model on ``x``; ``None`` when the forward was stopped at the layer.

        The model's own exceptions are raised as :class:`~whylens.errors.ModelError`.
        """
        from whylens.errors import ModelError, WhylensError

        self._calls = 0
        try:
            return self.model(x)
        except StopForward:
            return None
        except WhylensError:
            raise
        except Exception as exc:
            raise ModelError(
                f"model {type(self.model).__name__!r} raised {type(exc).__name__} on an "
                f"input of shape {tuple(getattr(x, 'shape', ()))}; see the chained "
                "exception above."
            ) from exc

    def last(self, name: str | None = None) -> Tensor:
        """The activation of the layer's last call (``(n, C, *spatial)`` tensor).

        Raises
        ------
        InputError
            If the layer was not called by the forward (it is not on the path
            from the input to the output).
        """
        name = self.names[0] if name is None else name
        records = self.activations[name]
        if not records:
            raise InputError(
                describe("layer", "a layer the forward pass goes through",
                         name, "Pick a layer on the path to the output "
                               "(see whylens.torch.layers).")
            )
        return records[-1]

    def gradients(self, score: Tensor, names: Sequence[str] | None = None,
                  retain_graph: bool = False) -> dict[str, Any]:
        """Gradients of ``score`` (a scalar tensor) at each layer's last call.

        Parameters
        ----------
        score : Tensor of shape ()
        names : sequence of str, optional
            Which layers; default all.
        retain_graph : bool, default=False
            Keep the graph for another call (one call per explained label).

        Returns
        -------
        dict of str to Tensor
            Gradient of the same shape as the activation (zeros where the
            score does not depend on it).
        """
        if not self.want_gradients:
            raise NotSupportedError(
                describe("gradients", "a capture opened with gradients=True", False)
            )
        names = list(self.names if names is None else names)
        leaves = [self.last(n) for n in names]
        grads = torch.autograd.grad(score, leaves, retain_graph=retain_graph,
                                    allow_unused=True)
        return {n: torch.zeros_like(leaf) if g is None else g
                for n, leaf, g in zip(names, leaves, grads, strict=True)}
