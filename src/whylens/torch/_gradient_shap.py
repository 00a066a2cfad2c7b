"""GradientSHAP (expected gradients) of the input and of a layer's activations."""

from __future__ import annotations

from typing import Any

import numpy as np

import torch
from torch import Tensor
from whylens._validation import check_positive_int, check_random_state, random_state_param
from whylens.models import DEFAULT_MEMORY_BUDGET
from whylens.torch._attribution import GradientAttribution
from whylens.torch._attribution_args import baseline_rows, check_float
from whylens.torch._runner import _Run, path_sums

__all__ = ["GradientShap", "LayerGradientShap"]


def _torch_generator(rng: np.random.Generator) -> torch.Generator:
    """A CPU torch generator seeded from ``rng``."""
    return torch.Generator().manual_seed(int(rng.integers(0, 2**63 - 1)))


class GradientShap(GradientAttribution):
    """GradientSHAP (Lundberg & Lee, 2017; shap's GradientExplainer, captum's GradientShap).

    Expected gradients: for each instance, ``n_samples`` draws of a background
    row ``b``, a point ``a ~ U(0, 1)`` and noise ``e ~ N(0, stdevs²)``;
    ``values = mean (x + e - b) * df/dx(b + a (x + e - b))``. Its expectation
    is SHAP values of the linearised model, so the sum approaches ``f(x) -
    mean f(background)`` (``delta`` reports the gap).

    Parameters
    ----------
    model : torch.nn.Module
    n_samples : int, default=5
    stdevs : float, default=0.0
    random_state : int or numpy.random.Generator, optional
        The same int gives the same draws, and bit-identical values, on every
        call (the values do not depend on ``batch_size`` either).
    batch_size, memory_budget, internal_batch_size
        As :class:`GradientAttribution`.
    """

    name = "gradientshap"
    _captum_positional = ("baselines", "n_samples", "stdevs", "target", "additional_forward_args",
                          "return_convergence_delta")
    _captum_options = ("n_samples", "stdevs")
    _captum_delta = True

    def _reconfigure(self) -> None:
        self._configure(self.n_samples, self.stdevs, self.random_state)

    def __init__(self, model: Any, *, n_samples: int = 5, stdevs: float = 0.0,
                 random_state: Any = None, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        super().__init__(model, batch_size=batch_size, memory_budget=memory_budget,
                         internal_batch_size=internal_batch_size)
        self._configure(n_samples, stdevs, random_state)

    def _configure(self, n_samples: int, stdevs: float, random_state: Any) -> None:
        self.n_samples = check_positive_int("n_samples", n_samples)
        self.stdevs = check_float("stdevs", stdevs)
        check_random_state(random_state)
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return {"n_samples": self.n_samples, "stdevs": self.stdevs,
                "random_state": random_state_param(self.random_state)}

    def _draws(self, n: int, k: int, dev: Any) -> tuple[Tensor, Tensor, Tensor, torch.Generator]:
        """Per sample row (instance-major): instance, background row, point; the generator."""
        rng = check_random_state(self.random_state)
        gen = _torch_generator(rng)
        s = self.n_samples
        rows_i = torch.arange(n).repeat_interleave(s).to(dev)
        rows_s = torch.randint(0, k, (n * s,), generator=gen).to(dev)
        alphas = torch.rand(n * s, generator=gen, dtype=torch.float64).to(dev)
        return rows_i, rows_s, alphas, gen

    def _sample_paths(self, run: _Run, starts: Tensor, ends: Tensor,
                      inputs: Tensor | None = None) -> Tensor:
        """``mean_s (e_s - b_s) * grad f(b_s + a_s (e_s - b_s))`` per instance.

        ``starts``: the background (inputs or layer activations, k rows);
        ``ends``: the instances (n rows), noise added per sample when
        ``stdevs > 0``. Returns (n, n_labels, *shape).
        """
        n, s = int(ends.shape[0]), self.n_samples
        rows_i, rows_s, alphas, gen = self._draws(n, int(starts.shape[0]), ends.device)
        ends = ends[rows_i]
        if self.stdevs > 0:
            noise = torch.randn(ends.shape, generator=gen, dtype=torch.float64)
            ends = ends + (noise * self.stdevs).to(device=ends.device, dtype=ends.dtype)
        alphas = alphas.to(ends.dtype).view(-1, *(1,) * (ends.ndim - 1))

        def fill(r0: int, r1: int, segs: Any, out: Tensor) -> Tensor:
            start = starts[rows_s[r0:r1]]
            diff = ends[r0:r1] - start
            torch.addcmul(start, alphas[r0:r1], diff, out=out)
            return diff

        attr = path_sums(run, n, s, ends[:1], fill, inputs=inputs)
        return attr.div_(s)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        b = baseline_rows(baselines, run.x, per_instance=False)
        values = self._sample_paths(run, b, run.x)
        base = run.forward(b).mean(dim=0)[run.labels]
        return {"values": values, "base_values": base}


class LayerGradientShap(GradientShap):
    """GradientSHAP of a layer's activations (captum's LayerGradientShap).

    Paths run between the layer's activations at background inputs and at
    ``x``; ``stdevs`` noise, when asked, is added to those activations.
    Baselines are background *inputs* (any number of rows; default one row
    of zeros). ``values``: ``(n, n_labels, *layer_output.shape[1:])``.

    captum interpolates the *inputs* (and adds the noise there) and takes the
    layer's gradient at the interpolated input's activations. The two agree,
    for the same draws, when the layer is affine in the input (a first
    convolution or linear layer); on an embedding of token ids only the
    activations can be interpolated.

    Parameters
    ----------
    model : torch.nn.Module
    layer : str or torch.nn.Module
        A layer called once per forward, returning one tensor.
    n_samples, stdevs, random_state, batch_size, memory_budget, internal_batch_size
        As :class:`GradientShap`.
    """

    name = "layergradientshap"
    _captum_positional = ("baselines", "n_samples", "stdevs", "target", "additional_forward_args",
                          "return_convergence_delta", "attribute_to_layer_input")
    is_layer_method = True

    def __init__(self, model: Any, layer: Any, *, n_samples: int = 5, stdevs: float = 0.0,
                 random_state: Any = None, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 internal_batch_size: int | None = None) -> None:
        GradientAttribution.__init__(self, model, layer, batch_size=batch_size,
                                     memory_budget=memory_budget,
                                     internal_batch_size=internal_batch_size)
        self._configure(n_samples, stdevs, random_state)

    def _attribute(self, run: _Run, baselines: Any) -> dict[str, Any]:
        b = baseline_rows(baselines, run.x, per_instance=False)
        a_b, f_b = run.layer_activations(b)
        values = self._sample_paths(run, a_b, run.layer_x, inputs=run.x)
        return {"values": values, "base_values": f_b.mean(dim=0)[run.labels]}
