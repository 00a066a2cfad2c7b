"""Exact, Kernel and Permutation SHAP behind one shap-like surface.

Every explainer follows the calling convention: built as
``Explainer(model, masker, batch_size=, memory_budget=, random_state=)`` and
called on a batch, ``explainer(X, target=, progress=, callback=) ->
Explanation``; ``explainer.shap_values(X)`` returns the array in shap's layout
for code ported from shap. Coalitions are evaluated through the runner (the
masker's representations, chunked by the model), and the explainers differ in
their solver: :meth:`ShapExplainer._plan`/``_finish`` for a design shared by
the rows of a table, :meth:`ShapExplainer._solve` for one instance's
:class:`~whylens.shap._maskers.Game`.
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np

from whylens.errors import InputError, InputTypeError, describe
from whylens.shap._explainer_base import SHARED_CALLS_MAX, EfficiencyWarning, ShapExplainer
from whylens.shap._solvers import (
    MAX_EXACT_FEATURES,
    exact_finish,
    exact_masks,
    exact_shapley,
    kernel_finish,
    kernel_shapley,
    permutation_finish,
    permutation_masks,
    permutation_orders,
    permutation_shapley,
    sample_kernel_coalitions,
)

__all__ = [
    "EfficiencyWarning",
    "ExactExplainer",
    "KernelExplainer",
    "PermutationExplainer",
    "ShapExplainer",
]


class ExactExplainer(ShapExplainer):
    """Exact Shapley values by enumerating all 2^d coalitions.

    The coalitions are generated as integer bit patterns in blocks and
    evaluated in the model's chunks; the values come from two matrix products
    per block (:func:`whylens.shap._solvers.exact_shapley`). Cost: 2^d
    coalitions (times the background rows for tables).

    Parameters
    ----------
    model, masker, feature_names, output_names, batch_size, memory_budget
        As :class:`ShapExplainer`.
    max_features : int, default=20
        Largest d accepted (2^20 = 1,048,576 coalitions).

    Raises
    ------
    InputError
        When an instance has more than ``max_features`` features.

    Examples
    --------
    >>> import numpy as np
    >>> from whylens.shap import ExactExplainer
    >>> f = lambda X: X[:, 0] * X[:, 1] + X[:, 2]
    >>> exp = ExactExplainer(f, np.zeros((1, 3)))(np.array([[1.0, 2.0, 3.0]]))
    >>> exp.values[0, 0].tolist()
    [1.0, 1.0, 3.0]
    """

    method = "shap.exact"

    def __init__(self, model: Any, masker: Any, *, max_features: int = MAX_EXACT_FEATURES,
                 **kwargs: Any) -> None:
        super().__init__(model, masker, **kwargs)
        self.max_features = int(max_features)
        if self.masker.kind == "tabular":
            self._check_d(self.masker.n_features)

    def _check_d(self, d: int) -> None:
        if d > self.max_features:
            argument = "masker" if self.masker.kind == "tabular" else "X"
            raise InputError(
                describe(argument, f"at most {self.max_features} features for ExactExplainer "
                         f"(2^{self.max_features} coalitions)", got_text=f"{d} features",
                         fix="Use whylens.shap.KernelExplainer or PermutationExplainer, or "
                             "raise max_features if 2^d model evaluations are affordable.")
            )

    def _coalitions(self, d):
        self._check_d(d)
        return (1 << d) - 2

    def _solve(self, game, v_empty, v_full, rng):
        self._check_d(game.n_features)
        return exact_shapley(game, v_empty, v_full)

    def _plan(self, d, rng):
        if 2**d > SHARED_CALLS_MAX:
            return None
        return exact_masks(d), None

    def _finish(self, Z, state, v, v_empty, v_full):
        return exact_finish(Z, v, v_empty, v_full)


class KernelExplainer(ShapExplainer):
    """Kernel SHAP with paired, stratified sampling without replacement.

    Solves the Shapley kernel's weighted least squares under the efficiency
    constraint. Coalitions come in complementary pairs; every coalition of the
    smallest and largest sizes is enumerated first, then the remaining budget
    is drawn without replacement inside each size and each coalition is
    weighted by its size's kernel mass over the number drawn of that size.
    With ``nsamples >= 2**d`` every coalition is used once and the values are
    exact.

    Parameters
    ----------
    model, masker, feature_names, output_names, batch_size, memory_budget, random_state
        As :class:`ShapExplainer`.
    nsamples : int or "auto", default="auto"
        Coalitions evaluated per instance, the empty and full ones included
        (each costs one model row per background row). ``"auto"``:
        ``min(2**d, 2*d + 2048)``. At least ``2*d + 2``.
    l1_reg : False or int, default=False
        No feature selection unless asked: an int k keeps only the k features
        a Lasso-LARS path picks first (the others get 0; efficiency still holds).
    size_weights : {"leverage", "kernel", "sqrt"}, default="leverage"
        How the sampled budget is spread over coalition sizes after the
        enumerated ones: equally per size (Musco & Witter's leverage scores,
        the most accurate in ``benchmarks/bench_shap.py``), by the Shapley
        kernel's mass (as shap), or in between (``1/sqrt(s(d-s))``).

    References
    ----------
    Lundberg & Lee (2017), A unified approach to interpreting model predictions.
    Covert & Lee (2021), Improving KernelSHAP. Musco & Witter (2025), Provably
    accurate Shapley value estimation via leverage score sampling.
    """

    method = "shap.kernel"

    def __init__(self, model: Any, masker: Any, *, nsamples: int | str = "auto",
                 l1_reg: bool | int = False, size_weights: str = "leverage",
                 **kwargs: Any) -> None:
        super().__init__(model, masker, **kwargs)
        if size_weights not in ("leverage", "kernel", "sqrt"):
            raise InputError(describe("size_weights", "'leverage', 'kernel' or 'sqrt'",
                                      size_weights))
        self.size_weights = size_weights
        self._set_budget(nsamples, l1_reg)

    def _set_budget(self, nsamples: Any, l1_reg: Any) -> None:
        """Check and set ``nsamples`` and ``l1_reg`` (the constructor's and shap_values')."""
        if not (nsamples == "auto" or (isinstance(nsamples, numbers.Integral)
                                       and not isinstance(nsamples, bool))):
            raise InputTypeError(describe("nsamples", "'auto' or an int", nsamples))
        if l1_reg is not False and (isinstance(l1_reg, bool)
                                    or not isinstance(l1_reg, numbers.Integral) or l1_reg < 1):
            raise InputError(
                describe("l1_reg", "False (no selection) or a number of features >= 1", l1_reg,
                         "shap's 'aic'/'bic'/'auto' are not offered: they zero features "
                         "silently.")
            )
        self.nsamples = nsamples
        self.l1_reg = l1_reg
        if self.masker.kind == "tabular":
            self._budget(self.masker.n_features)

    def _budget(self, d: int) -> int:
        full = 2**d if d < 63 else np.iinfo(np.int64).max
        if self.nsamples == "auto":
            return int(min(full, 2 * d + 2048))
        minimum = min(full, 2 * d + 2)
        if self.nsamples < minimum:
            raise InputError(
                describe("nsamples", f"'auto' or an int >= {minimum} (2*d + 2 for d={d} "
                         "features: the empty and full coalitions, every single feature and "
                         "its complement)", self.nsamples, f"Pass nsamples={minimum} or more.")
            )
        return int(min(full, self.nsamples))

    def _params(self):
        return {"nsamples": self.nsamples, "l1_reg": self.l1_reg,
                "size_weights": self.size_weights}

    def shap_values(self, X: Any, *, nsamples: int | str | None = None,
                    l1_reg: bool | int | None = None, silent: bool = False,
                    **kwargs: Any) -> np.ndarray:
        """Shapley values in shap's layout; shap's per-call ``nsamples`` and ``l1_reg``.

        ``nsamples`` / ``l1_reg`` given here apply to this call only (on a
        copy of the explainer: the explainer itself is not changed, so calls
        from several threads do not interfere). ``silent=True`` turns the
        progress bar off (shap's argument). Other keywords as
        :meth:`ShapExplainer.shap_values`.

        Returns
        -------
        ndarray
            (n, n_features) for one explained output, (n, n_features, n_labels)
            otherwise; without the first axis when ``X`` is a single row.

        Raises
        ------
        InputError, InputTypeError
            A bad ``nsamples`` or ``l1_reg`` (as the constructor).
        """
        explainer = self
        if nsamples is not None or l1_reg is not None:
            explainer = copy.copy(self)
            KernelExplainer._set_budget(
                explainer, self.nsamples if nsamples is None else nsamples,
                self.l1_reg if l1_reg is None else l1_reg)
        if silent:
            kwargs["progress"] = False
        return ShapExplainer.shap_values(explainer, X, **kwargs)

    def _coalitions(self, d):
        return 0 if d == 1 else 2 * ((min(self._budget(d), 2**d if d < 63 else 2**62) - 2) // 2)

    def _solve(self, game, v_empty, v_full, rng):
        budget = self._budget(game.n_features)
        return kernel_shapley(game, v_empty, v_full, budget, rng, self.size_weights,
                              self.l1_reg)

    def _plan(self, d, rng):
        budget = self._budget(d)
        if d == 1 or budget > SHARED_CALLS_MAX:
            return None
        Z, weights = sample_kernel_coalitions(d, budget, rng, self.size_weights)
        return Z, weights

    def _finish(self, Z, state, v, v_empty, v_full):
        return kernel_finish(Z, state, v, v_empty, v_full, self.l1_reg)


class PermutationExplainer(ShapExplainer):
    """Permutation SHAP with antithetic (forward and reverse) orderings.

    Every ordering costs d-1 coalitions (the empty and full ones are shared);
    all prefixes of a block of orderings go to the model in one chunk.
    Efficiency holds exactly for any budget.

    Parameters
    ----------
    model, masker, feature_names, output_names, batch_size, memory_budget, random_state
        As :class:`ShapExplainer`.
    max_evals : int or "auto", default="auto"
        Coalitions per instance, the empty and full ones included. The
        number of orderings is ``(max_evals - 2) // (d - 1)`` rounded down to
        an even number, at least 2. ``"auto"``: 10 antithetic pairs.
    sampling : {"antithetic", "balanced"}, default="antithetic"
        ``"balanced"`` takes cyclic shifts of random orderings, so every
        feature holds every position equally often.
    """

    method = "shap.permutation"

    def __init__(self, model: Any, masker: Any, *, max_evals: int | str = "auto",
                 sampling: str = "antithetic", **kwargs: Any) -> None:
        super().__init__(model, masker, **kwargs)
        if not (max_evals == "auto" or (isinstance(max_evals, numbers.Integral)
                                        and not isinstance(max_evals, bool))):
            raise InputTypeError(describe("max_evals", "'auto' or an int", max_evals))
        if sampling not in ("antithetic", "balanced"):
            raise InputError(describe("sampling", "'antithetic' or 'balanced'", sampling))
        self.max_evals = max_evals
        self.sampling = sampling
        if self.masker.kind == "tabular":
            self._n_orders(self.masker.n_features)

    def _n_orders(self, d: int) -> int:
        if d <= 1:
            return 2
        if self.max_evals == "auto":
            return 20
        minimum = 2 + 2 * (d - 1)
        if self.max_evals < minimum:
            raise InputError(
                describe("max_evals", f"'auto' or an int >= {minimum} (one forward and one "
                         f"reverse ordering of d={d} features)", self.max_evals)
            )
        return max(2, ((self.max_evals - 2) // (d - 1)) // 2 * 2)

    def _params(self):
        return {"max_evals": self.max_evals, "sampling": self.sampling}

    def _coalitions(self, d):
        return 0 if d <= 1 else 2 * max(1, self._n_orders(d) // 2) * (d - 1)

    def _solve(self, game, v_empty, v_full, rng):
        d = game.n_features
        orders = permutation_orders(d, self._n_orders(d), rng, self.sampling)
        return permutation_shapley(game, v_empty, v_full, orders)

    def _plan(self, d, rng):
        n_orders = self._n_orders(d)
        if d == 1 or n_orders * (d - 1) > SHARED_CALLS_MAX:
            return None
        orders = permutation_orders(d, n_orders, rng, self.sampling)
        return permutation_masks(orders), orders

    def _finish(self, Z, state, v, v_empty, v_full):
        return permutation_finish(state, v, v_empty, v_full)
