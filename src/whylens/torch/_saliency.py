"""Plain and rectified gradients: Saliency, Input x Gradient, guided backprop, deconvolution."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.torch._attribution import GradientAttribution
from whylens.torch._rules import GuidedMode
from whylens.torch._runner import _Run

__all__ = ["Deconvolution", "GuidedBackprop", "InputXGradient", "Saliency"]


class Saliency(GradientAttribution):
    """Saliency (Simonyan et al., 2013): the gradient of the label's output.

    Parameters
    ----------
    model : torch.nn.Module
    abs : bool, default=True
        Absolute value of the gradient (captum's default).
    batch_size, memory_budget, internal_batch_size
        As :class:`GradientAttribution`.
    """

    name = "saliency"
    _captum_positional = ("target", "abs", "additional_forward_args")
    _captum_options = ("abs",)
    _gradient_at_x = True

    def __init__(self, model: Any, *, abs: bool = True, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        super().__init__(model, batch_size=batch_size, memory_budget=memory_budget,
                         internal_batch_size=internal_batch_size)
        self.abs = bool(abs)

    def _params(self) -> dict[str, Any]:
        return {"abs": self.abs}

    def _gradient(self, run: _Run, x: Tensor) -> Tensor:
        """Each label's gradient at the rows of ``x`` (run.x): (n, n_labels, ...)."""
        n = int(x.shape[0])
        if x is run.x and run.x_grads is not None:
            run.progress(n, n)
            return run.x_grads  # from the first forward (see GradientAttribution.__call__)
        size = run.chunk_size(x[:1])
        parts = []
        for start in range(0, n, size):
            rows = torch.arange(start, min(start + size, n), device=x.device)
            parts.append(run.grads(x[start : start + size], rows=rows))
            run.progress(min(start + size, n), n)
        return torch.cat(parts)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        g = self._gradient(run, run.x)
        return {"values": g.abs() if self.abs else g}


class _SignedGradient(Saliency):
    """A :class:`Saliency` variant that keeps the gradient's sign and has no options."""

    _captum_positional = ("target", "additional_forward_args")
    _captum_options = ()

    def __init__(self, model: Any, *, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        super().__init__(model, abs=False, batch_size=batch_size, memory_budget=memory_budget,
                         internal_batch_size=internal_batch_size)

    def _params(self) -> dict[str, Any]:
        return {}


class InputXGradient(_SignedGradient):
    """Input × Gradient (Shrikumar et al., 2016): ``x * df/dx``.

    For a linear model with zero bias the attributions sum to the output.
    """

    name = "inputxgradient"

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        return {"values": self._gradient(run, run.x) * run.x[:, None]}


class GuidedBackprop(_SignedGradient):
    """Guided backpropagation (Springenberg et al., 2015).

    The gradient, except that through every ReLU (module, function or tensor
    method, in-place or not) only positive gradients pass, and only where the
    ReLU's input was positive: ``relu(g) * 1[x > 0]``.
    """

    name = "guidedbackprop"
    _deconv = False
    _gradient_at_x = False  # its gradient runs under the guided rules

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        run.mode_factory = lambda: GuidedMode(deconv=self._deconv)
        return {"values": self._gradient(run, run.x)}


class Deconvolution(GuidedBackprop):
    """Deconvolution (Zeiler & Fergus, 2014): through every ReLU, ``relu(g)``."""

    name = "deconvolution"
    _deconv = True
