"""Evaluate a ``torch.nn.Module`` as a batched numpy prediction function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from whylens.errors import InputError, ModelOutputError, describe

__all__ = ["MODULE_RETURNS", "check_returns", "eval_mode", "module_device", "torch_predict_fn"]


def module_device(module: Any) -> Any:
    """Return the device of the module's first parameter or buffer (CPU if none)."""
    import torch

    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


def _module_float_dtype(module: Any) -> Any:
    import torch

    for tensor in module.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.get_default_dtype()


@contextmanager
def eval_mode(module: Any) -> Iterator[None]:
    """Put ``module`` in eval mode; restore every submodule's own flag on exit.

    ``module.train(flag)`` would overwrite submodules that were in a different
    mode than their parent (a frozen BatchNorm in a training model, say), so
    each submodule's flag is recorded and restored one by one.
    """
    flags = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        yield
    finally:
        for m, flag in flags:
            m.training = flag


MODULE_RETURNS = ("logits", "probability")


def check_returns(returns: str) -> str:
    """Validate a declaration of what a module returns (``"logits"`` or ``"probability"``)."""
    if not isinstance(returns, str) or returns not in MODULE_RETURNS:
        raise InputError(
            describe("returns", "'logits' (the model returns scores) or 'probability' (it "
                     "ends in sigmoid or softmax)", returns,
                     "Declare what the model's forward returns; see the docstring.")
        )
    return returns


def _check_probabilities(out: Any, name: str) -> None:
    """Raise ModelOutputError unless every value of ``out`` lies in [0, 1]."""
    import torch

    inside = (out >= 0) & (out <= 1)  # NaN fails both
    if not bool(inside.all()):
        finite = out[torch.isfinite(out)]
        got = (f"values from {float(finite.min()):.4g} to {float(finite.max()):.4g}"
               if finite.numel() else "no finite values")
        if finite.numel() < out.numel():
            got += " and NaN or infinity"
        raise ModelOutputError(
            describe(f"returns={'probability'!r} of {name}", "values in [0, 1]",
                     got_text=got,
                     fix="The model returns scores, not probabilities: pass "
                         "returns='logits' (whylens then applies softmax, or sigmoid "
                         "for one output).")
        )


def torch_predict_fn(module: Any, probability: bool = False, returns: str = "logits"
                     ) -> Callable[[Any], np.ndarray]:
    """Return ``fn(batch) -> ndarray`` that runs ``module`` without side effects.

    Inputs (numpy arrays or tensors) are moved to the module's device; float
    inputs take the module's parameter dtype, integer inputs (token ids) are
    kept as int64. The module runs in eval mode under
    ``torch.inference_mode()``; its training flags are restored afterwards.

    Parameters
    ----------
    module : torch.nn.Module
    probability : bool, default=False
        Return probabilities, one column per class: with ``returns="logits"``
        softmax over the last dimension (sigmoid, as two columns
        ``[1 - p, p]``, when the module has one output); with
        ``returns="probability"`` the module's own values (one output ``p``
        as ``[1 - p, p]``).
    returns : {"logits", "probability"}, default="logits"
        What the module's forward returns. ``"logits"``: unnormalised scores
        (a final ``nn.Linear``; the usual torch convention).
        ``"probability"``: the module already ends in sigmoid or softmax, so
        no second one is applied; every value must lie in [0, 1]
        (:class:`~whylens.errors.ModelOutputError` otherwise).

    Returns
    -------
    callable
        ``fn(batch) -> ndarray of shape (n, n_outputs)``, float64.

    Raises
    ------
    InputError
        If ``returns`` is not ``"logits"`` or ``"probability"``.
    """
    returns = check_returns(returns)  # before importing torch: a typo needs no torch
    import torch

    name = type(module).__name__

    def fn(batch: Any) -> np.ndarray:
        device = module_device(module)
        if isinstance(batch, torch.Tensor):
            x = batch
        else:
            x = torch.as_tensor(np.asarray(batch))
        if x.is_floating_point():
            x = x.to(device=device, dtype=_module_float_dtype(module))
        else:
            x = x.to(device=device, dtype=torch.int64)
        with eval_mode(module), torch.inference_mode():
            out = module(x)
            if isinstance(out, (tuple, list)):
                out = out[0]
            out = out.detach().to("cpu", torch.float64)
            if returns == "probability":
                _check_probabilities(out, name)
            if probability:
                single = out.ndim == 1 or out.shape[-1] == 1
                if returns == "logits":
                    out = torch.sigmoid(out.reshape(-1, 1)) if single else torch.softmax(out, -1)
                if single:
                    p = out.reshape(-1, 1)
                    out = torch.cat([1 - p, p], dim=1)
            return out.numpy()

    return fn
