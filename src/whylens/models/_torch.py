"""Evaluate a ``torch.nn.Module`` as a batched numpy prediction function."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from whylens.errors import InputError, ModelOutputError, describe

__all__ = [
    "MODULE_RETURNS",
    "TorchPredictFn",
    "check_returns",
    "eval_mode",
    "module_device",
    "torch_module_of",
    "torch_predict_fn",
]


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
    if not any(flag for _, flag in flags):  # already in eval mode: nothing to toggle
        yield
        return
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
                     ) -> TorchPredictFn:
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
    TorchPredictFn
        ``fn(batch) -> ndarray of shape (n, n_outputs)``, float64; picklable,
        with the module as ``fn.module``.

    Raises
    ------
    InputError
        If ``returns`` is not ``"logits"`` or ``"probability"``.
    """
    returns = check_returns(returns)  # before importing torch: a typo needs no torch
    return TorchPredictFn(module, probability=probability, returns=returns)


class TorchPredictFn:
    """A torch module as ``fn(batch) -> ndarray``; see :func:`torch_predict_fn`.

    A class rather than a closure so that it pickles with its module and so
    that representations can build their inputs directly where the module
    runs (:attr:`device`, :attr:`dtype`), without a numpy round trip per chunk.

    Attributes
    ----------
    module : torch.nn.Module
    probability : bool
    returns : {"logits", "probability"}
    """

    def __init__(self, module: Any, probability: bool = False, returns: str = "logits") -> None:
        self.module = module
        self.probability = bool(probability)
        self.returns = check_returns(returns)

    @property
    def device(self) -> Any:
        """The module's device (of its first parameter or buffer; CPU if none)."""
        return module_device(self.module)

    @property
    def dtype(self) -> Any:
        """The float dtype float inputs are cast to (the first float parameter's)."""
        return _module_float_dtype(self.module)

    def __call__(self, batch: Any) -> np.ndarray:
        """Run the module on one chunk.

        Parameters
        ----------
        batch : ndarray or Tensor of shape (n, ...)

        Returns
        -------
        ndarray of shape (n, n_outputs), float64
        """
        import torch
        from whylens._locks import model_lock

        module = self.module
        x = batch if isinstance(batch, torch.Tensor) else torch.as_tensor(np.asarray(batch))
        if x.is_floating_point():
            x = x.to(device=self.device, dtype=self.dtype)
        else:
            x = x.to(device=self.device, dtype=torch.int64)
        with torch.inference_mode():
            # The lock: another thread's eval_mode must not restore training flags mid-forward.
            with model_lock(module), eval_mode(module):
                out = module(x)
            if isinstance(out, (tuple, list)):
                out = out[0]
            out = out.detach().to("cpu", torch.float64)
            if self.returns == "probability":
                _check_probabilities(out, type(module).__name__)
            if self.probability:
                single = out.ndim == 1 or out.shape[-1] == 1
                if self.returns == "logits":
                    out = (torch.sigmoid(out.reshape(-1, 1)) if single
                           else torch.softmax(out, -1))
                if single:
                    p = out.reshape(-1, 1)
                    out = torch.cat([1 - p, p], dim=1)
        return out.numpy()


def torch_module_of(fn: Any) -> Any:
    """The torch module behind a :class:`~whylens.models.Model` or its ``fn``, or None."""
    fn = getattr(fn, "fn", fn)
    return fn.module if isinstance(fn, TorchPredictFn) else None
