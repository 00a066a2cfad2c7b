"""Evaluate a ``torch.nn.Module`` as a batched numpy prediction function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["eval_mode", "module_device", "torch_predict_fn"]


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


def torch_predict_fn(module: Any, probability: bool = False) -> Callable[[Any], np.ndarray]:
    """Return ``fn(batch) -> ndarray`` that runs ``module`` without side effects.

    Inputs (numpy arrays or tensors) are moved to the module's device; float
    inputs take the module's parameter dtype, integer inputs (token ids) are
    kept as int64. The module runs in eval mode under
    ``torch.inference_mode()``; its training flags are restored afterwards.

    Parameters
    ----------
    module : torch.nn.Module
    probability : bool, default=False
        Apply softmax over the last dimension (sigmoid, as two columns
        ``[1 - p, p]``, when the module has one output).

    Returns
    -------
    callable
        ``fn(batch) -> ndarray of shape (n, n_outputs)`` (float64 happens in
        the Model wrapper).
    """
    import torch

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
            if probability:
                if out.ndim == 1 or out.shape[-1] == 1:
                    p = torch.sigmoid(out.reshape(-1, 1))
                    out = torch.cat([1 - p, p], dim=1)
                else:
                    out = torch.softmax(out, dim=-1)
            return out.detach().to("cpu", torch.float64).numpy()

    return fn
