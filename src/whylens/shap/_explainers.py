"""Exact, Kernel and Permutation SHAP behind one shap-like surface.

Every explainer is built as ``Explainer(model, masker)`` and called on a batch,
``explainer(X) -> Explanation``; ``explainer.shap_values(X)`` returns the
array in shap's layout for code ported from shap. They differ in one method,
:meth:`ShapExplainer._solve`, which turns one instance's
:class:`~whylens.shap._maskers.Game` into Shapley values.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from whylens._validation import check_names, check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.models import as_model
from whylens.shap._maskers import ImageMasker, TabularMasker, TextMasker
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

#: Coalitions per row up to which the rows of a table share one design and model calls.
_SHARED_CALLS_MAX = 1 << 16

__all__ = [
    "EfficiencyWarning",
    "ExactExplainer",
    "KernelExplainer",
    "PermutationExplainer",
    "ShapExplainer",
]


class EfficiencyWarning(UserWarning):
    """Shapley values that do not sum to output minus base value (numerical trouble)."""


def _as_masker(masker: Any, feature_names: Sequence[str] | None) -> Any:
    if isinstance(masker, (TabularMasker, TextMasker, ImageMasker)) or (
        hasattr(masker, "game") and hasattr(masker, "kind")
    ):
        return masker
    if masker is None:
        raise InputError(
            describe("masker", "a background table (n_rows, n_features) or a whylens masker",
                     None, "Pass e.g. X_train[:100], whylens.shap.summarize_background(X, 10) "
                     "or whylens.shap.TextMasker().")
        )
    return TabularMasker(masker, feature_names=feature_names)


def _check_rows(X: Any, d: int) -> tuple[np.ndarray, bool]:
    """Return ``X`` as float64 (n, d) and whether a single 1-D row came."""
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(
            describe("X", f"a numeric array of shape (n, {d})", X,
                     "Encode categorical columns as numbers, as in the background.")
        ) from exc
    single = A.ndim == 1
    if single:
        A = A[None, :]
    if A.ndim != 2 or A.shape[1] != d or A.shape[0] == 0:
        raise InputError(
            describe("X", f"rows of {d} features, shape (n, {d})", got_text=f"shape {A.shape}",
                     fix="X must have the background's columns; pass X[i:i+1] for one row.")
        )
    bad = ~np.isfinite(A)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise InputError(
            describe("X", "finite values", got_text=f"NaN or infinity in row(s) "
                     f"{rows[:10].tolist()}", fix="Impute missing values first.")
        )
    return A, single


class ShapExplainer:
    """Base of the game-based SHAP explainers (one override point: ``_solve``).

    Parameters
    ----------
    model : callable, scikit-learn estimator or torch module
        Anything :func:`whylens.models.as_model` accepts; a scikit-learn
        classifier is explained through ``predict_proba``.
    masker : array-like, TabularMasker or TextMasker
        A background table (wrapped in :class:`TabularMasker`, summarised by
        k-means past 100 rows) or a masker.
    feature_names : sequence of str, optional
        Names of the table's columns (default: the masker's).
    output_names : sequence of str, optional
        Names of the model's outputs.
    chunk_size : int, optional
        Most rows per model call (``None``: from the memory budget).
    random_state : int or numpy.random.Generator, optional
        Seed; the same int gives bit-identical explanations.
    """

    method = "shap"

    def __init__(self, model: Any, masker: Any, *, feature_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None, chunk_size: int | None = None,
                 random_state: int | np.random.Generator | None = None) -> None:
        self.model = as_model(model, chunk_size=chunk_size, output_names=output_names)
        self.masker = _as_masker(masker, feature_names)
        if self.masker.kind == "tabular":
            self.feature_names = check_names(
                "feature_names", feature_names if feature_names is not None
                else self.masker.feature_names, self.masker.n_features, "x")
        else:
            self.feature_names = None
        check_random_state(random_state)  # validate now
        self.random_state = random_state
        self._base: np.ndarray | None = None

    # ------------------------------------------------------------ override point
    def _solve(self, game: Any, v_empty: np.ndarray, v_full: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {}

    def _plan(self, d: int, rng: np.random.Generator) -> tuple[np.ndarray, Any] | None:
        """One design: coalitions (m, d) for every row and what ``_finish`` needs, or None.

        Explainers that return a plan let the rows of a table share the design,
        the model calls and one solve (``_finish`` gets every (row, output)
        pair as a column of ``v``).
        """
        return None

    def _finish(self, Z: np.ndarray, state: Any, v: np.ndarray, v_empty: np.ndarray,
                v_full: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ surface
    @property
    def expected_value(self) -> np.ndarray | float:
        """The base value (mean output over the background); a float for one output.

        Only for tabular maskers (a text base value depends on the document).
        """
        if self.masker.kind != "tabular":
            raise InputError(
                describe("expected_value", "a tabular masker", got_text=f"a {self.masker.kind} "
                         "masker", fix="Read exp.base_values of an explanation instead.")
            )
        if self._base is None:
            self._base = self.masker.base_value(self.model)
        return float(self._base[0]) if self._base.shape[0] == 1 else self._base.copy()

    def __call__(self, X: Any) -> Explanation:
        """Explain every row (or document) of ``X``.

        Parameters
        ----------
        X : array-like of shape (n, n_features); a str or list of str (TextMasker);
            an image (H, W[, C]), a batch (n, H, W, C) or a list of images (ImageMasker)

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_outputs, n_features), ``base_values``
            (n, n_outputs), ``output`` (n, n_outputs), ``features.data`` the
            rows. ``params["efficiency_max_abs_error"]`` is the largest
            ``|sum(values) + base - output|``.
        """
        return self._explain(X)[0]

    def explain(self, X: Any) -> Explanation:
        """Same as calling the explainer."""
        return self(X)

    def shap_values(self, X: Any) -> np.ndarray:
        """Shapley values in shap's layout, for code ported from shap.

        Returns
        -------
        ndarray
            (n, n_features) for a one-output model, (n, n_features, n_outputs)
            otherwise; without the first axis when ``X`` is a single row.
        """
        exp, single = self._explain(X)
        values = exp.shap_values
        return values[0] if single else values

    # --------------------------------------------------------------- internals
    def _row_rngs(self, n: int) -> list[np.random.Generator]:
        """One generator per row, all seeded alike: every row gets the same design."""
        entropy = self._entropy()
        return [np.random.default_rng(entropy) for _ in range(n)]

    def _entropy(self) -> int:
        return int(check_random_state(self.random_state).integers(0, 2**63 - 1))

    def _explain(self, X: Any) -> tuple[Explanation, bool]:
        evals_before = self.model.n_evaluated
        if self.masker.kind == "tabular":
            rows, single = _check_rows(X, self.masker.n_features)
            n, d = rows.shape
            entropy = self._entropy()
            plan = (self._plan(d, np.random.default_rng(entropy))
                    if hasattr(self.masker, "evaluate_design") else None)
            with_base = self._base is None and isinstance(self.masker, TabularMasker)
            # The rows (for the outputs) and, the first time, the background (for
            # the base value) go to the model in its first call.
            head = np.concatenate([rows, self.masker.data]) if with_base else rows
            if plan is not None:
                Z, state = plan
                v, out = self.masker.evaluate_design(rows, Z, self.model, head=head)
            else:
                out = self.model(head)
            fx = out[:n]
            if with_base:
                self._base = self.masker.weights @ out[n:]
            if self._base is None:
                self._base = self.masker.base_value(self.model)
            base = self._base
            if fx.shape[1] != base.shape[0]:
                raise InputError(describe("model", "the same number of outputs on every input",
                                          got_text=f"{base.shape[0]} and {fx.shape[1]}"))
            if plan is not None:
                # One design for all rows (the same seed gives every row the same
                # coalitions): the model calls are shared, and the solver runs once
                # with every (row, output) as a column of one right-hand side.
                k = base.shape[0]
                cols = v.transpose(1, 0, 2).reshape(Z.shape[0], n * k)
                phi = self._finish(Z, state, cols, np.tile(base, n), fx.reshape(n * k))
                values = np.ascontiguousarray(phi.reshape(d, n, k).transpose(1, 2, 0))
                n_evals = (int(Z.shape[0]) + 2) * n
            else:
                phis, n_evals = [], 0
                for i in range(n):
                    game = self.masker.game(rows[i], self.model)
                    phis.append(self._solve(game, base, fx[i], np.random.default_rng(entropy)))
                    n_evals += game.n_evals + 2
                values = np.stack([p.T for p in phis])
            base_values = np.tile(base, (rows.shape[0], 1))
            features = Features(kind="tabular", names=list(self.feature_names), data=rows)
        else:
            items, single = self.masker.split(X)
            rngs = self._row_rngs(len(items))
            phis, bases, outs, reps, n_evals = [], [], [], [], 0
            for i, item in enumerate(items):
                rep = self.masker.representation(item)
                game = self.masker.game(rep, self.model)
                ends = game(np.array([np.zeros(rep.n_features, bool),
                                      np.ones(rep.n_features, bool)]))
                phis.append(self._solve(game, ends[0], ends[1], rngs[i]))
                bases.append(ends[0])
                outs.append(ends[1])
                reps.append(rep)
                n_evals += game.n_evals
            width = max(p.shape[0] for p in phis)
            k = phis[0].shape[1]
            values = np.zeros((len(items), k, width))
            for i, p in enumerate(phis):  # shorter documents / fewer segments: zero padding
                values[i, :, : p.shape[0]] = p.T
            base_values, fx = np.array(bases), np.array(outs)
            features = self.masker.features(reps, width)
        gap = np.abs(values.reshape(values.shape[0], values.shape[1], -1).sum(-1)
                     + base_values - fx)
        gap_max = float(gap.max())
        scale = 1.0 + float(np.abs(fx).max()) + float(np.abs(base_values).max())
        if gap_max > 1e-8 * scale:
            warnings.warn(
                f"{type(self).__name__}: Shapley values miss efficiency by {gap_max:.3g} "
                "(sum of values + base value != model output); the model may be "
                "non-deterministic or numerically unstable.", EfficiencyWarning, stacklevel=3)
        k = fx.shape[1]
        mode = "classification" if (self.model.output == "probability" or k > 1) \
            else "regression"
        params = {"explainer": type(self).__name__,
                  "random_state": random_state_param(self.random_state),
                  "efficiency_max_abs_error": gap_max,
                  "model_rows": int(self.model.n_evaluated - evals_before),
                  **self._params()}
        exp = Explanation(
            values=values, labels=np.arange(k), method=self.method, features=features,
            mode=mode, output=fx, output_names=self.model.output_names,
            base_values=base_values, params=params, n_evals=int(n_evals),
        )
        return exp, single


class ExactExplainer(ShapExplainer):
    """Exact Shapley values by enumerating all 2^d coalitions.

    The coalitions are generated as integer bit patterns in blocks and
    evaluated in the model's chunks; the values come from two matrix products
    per block (:func:`whylens.shap._solvers.exact_shapley`). Cost: 2^d
    coalitions (times the background rows for tables).

    Parameters
    ----------
    model, masker, feature_names, output_names, chunk_size
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

    def _solve(self, game, v_empty, v_full, rng):
        self._check_d(game.n_features)
        return exact_shapley(game, v_empty, v_full)

    def _plan(self, d, rng):
        if 2**d > _SHARED_CALLS_MAX:
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
    model, masker, feature_names, output_names, chunk_size, random_state
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
        if size_weights not in ("leverage", "kernel", "sqrt"):
            raise InputError(describe("size_weights", "'leverage', 'kernel' or 'sqrt'",
                                      size_weights))
        self.nsamples = nsamples
        self.l1_reg = l1_reg
        self.size_weights = size_weights
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

    def _solve(self, game, v_empty, v_full, rng):
        budget = self._budget(game.n_features)
        return kernel_shapley(game, v_empty, v_full, budget, rng, self.size_weights,
                              self.l1_reg)

    def _plan(self, d, rng):
        budget = self._budget(d)
        if d == 1 or budget > _SHARED_CALLS_MAX:
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
    model, masker, feature_names, output_names, chunk_size, random_state
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

    def _solve(self, game, v_empty, v_full, rng):
        d = game.n_features
        orders = permutation_orders(d, self._n_orders(d), rng, self.sampling)
        return permutation_shapley(game, v_empty, v_full, orders)

    def _plan(self, d, rng):
        n_orders = self._n_orders(d)
        if d == 1 or n_orders * (d - 1) > _SHARED_CALLS_MAX:
            return None
        orders = permutation_orders(d, n_orders, rng, self.sampling)
        return permutation_masks(orders), orders

    def _finish(self, Z, state, v, v_empty, v_full):
        return permutation_finish(state, v, v_empty, v_full)
