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

import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import ALL, check_batch_size, checked_callback
from whylens._validation import check_names, check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET, as_model
from whylens.shap._maskers import (
    Game,
    ImageMasker,
    Progress,
    TabularMasker,
    TextMasker,
)
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
from whylens.shap._target import select_target

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
        hasattr(masker, "representation") and hasattr(masker, "kind")
    ):
        return masker
    if masker is None:
        raise InputError(
            describe("masker", "a background table (n_rows, n_features) or a whylens masker",
                     None, "Pass e.g. X_train[:100], whylens.shap.summarize_background(X, 10) "
                     "or whylens.shap.TextMasker().")
        )
    return TabularMasker(masker, feature_names=feature_names)


def _batch_size(batch_size: Any, chunk_size: Any) -> int | None:
    """``batch_size``, or shap-era ``chunk_size`` (an alias; both given must agree)."""
    if chunk_size is not None:
        warnings.warn("chunk_size= is deprecated: pass batch_size= (rows per model call), the "
                      "name every whylens explainer uses.", DeprecationWarning, stacklevel=4)
        if batch_size is not None and batch_size != chunk_size:
            raise InputError(describe("chunk_size", f"the same as batch_size={batch_size!r} "
                                      "or None (chunk_size is batch_size's old name)",
                                      chunk_size, "Pass batch_size only."))
        batch_size = chunk_size
    return check_batch_size(batch_size, "chunk_size" if chunk_size is not None
                            else "batch_size")


class ShapExplainer:
    """Base of the game-based SHAP explainers (one override point: ``_solve``).

    Parameters
    ----------
    model : callable, scikit-learn estimator or torch module
        Anything :func:`whylens.models.as_model` accepts; a scikit-learn
        classifier is explained through ``predict_proba``.
    masker : array-like, DataFrame, TabularMasker, TextMasker or ImageMasker
        A background table (wrapped in :class:`TabularMasker`, summarised by
        k-means past 100 rows) or a masker. With a DataFrame the model is
        called with DataFrames of its columns and dtypes, and the feature
        names default to the columns.
    feature_names : sequence of str, optional
        Names of the table's columns (default: the masker's).
    output_names : sequence of str, optional
        Names of the model's outputs (what ``target`` may name).
    batch_size : int, optional
        Most rows per model call (``None``: from ``memory_budget``). The values
        do not depend on it.
    memory_budget : int, default=256 MiB
        Bytes one chunk of model inputs (with an estimated working factor) may take.
    random_state : int or numpy.random.Generator, optional
        Seed; the same int gives bit-identical explanations.
    chunk_size : int, optional
        Deprecated name of ``batch_size`` (shap-era whylens), still accepted.
    """

    method = "shap"

    def __init__(self, model: Any, masker: Any, *, feature_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 random_state: int | np.random.Generator | None = None,
                 chunk_size: int | None = None) -> None:
        self.batch_size = _batch_size(batch_size, chunk_size)
        self.memory_budget = memory_budget
        self.model = as_model(model, chunk_size=self.batch_size, memory_budget=memory_budget,
                              output_names=output_names)
        self.masker = _as_masker(masker, feature_names)
        if self.masker.kind == "tabular":
            self.feature_names = check_names(
                "feature_names", feature_names if feature_names is not None
                else self.masker.feature_names, self.masker.n_features, "x")
        else:
            self.feature_names = None
        check_random_state(random_state)  # validate now
        self.random_state = random_state

    # ------------------------------------------------------------ override point
    def _solve(self, game: Any, v_empty: np.ndarray, v_full: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _coalitions(self, d: int) -> int:  # pragma: no cover - abstract
        """Coalitions ``_solve`` evaluates for d features (the empty and full ones excluded)."""
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
        Evaluates the model on the background at every access.
        """
        if self.masker.kind != "tabular":
            raise InputError(
                describe("expected_value", "a tabular masker", got_text=f"a {self.masker.kind} "
                         "masker", fix="Read exp.base_values of an explanation instead.")
            )
        base = self.masker.base_value(self.model)
        return float(base[0]) if base.shape[0] == 1 else base

    def __call__(self, X: Any, *, target: Any = ALL, progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain every row (or document, or image) of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, n_features); a str or list of str
            (TextMasker); an image (H, W[, C]), a batch (n, H, W, C) or a list of
            images (ImageMasker)
        target : "all", None, int, str or a length-n sequence, default="all"
            Which outputs to explain. SHAP computes every output at the same
            cost, so the default (shap's behaviour) keeps them all; ``None``
            keeps each row's predicted class, an int or an output name that
            output for every row, a length-n sequence one output per row.
        progress : bool, optional
            A tqdm bar (default: when stderr is a terminal and the work takes
            several model calls).
        callback : callable, optional
            ``callback(coalitions_done, coalitions_total)`` after every chunk;
            raising :class:`~whylens.errors.Cancelled` or returning ``False``
            stops the work.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, n_features) (n_labels is
            n_outputs for ``target="all"``, else 1), ``labels`` (n_labels,) or
            (n, n_labels) when rows explain different outputs, ``base_values``
            (n, n_labels), ``output`` (n, n_outputs), ``features.data`` the
            rows. ``params["efficiency_max_abs_error"]`` is the largest
            ``|sum(values) + base - output|``.

        Raises
        ------
        InputError, InputTypeError
            Bad ``X`` or ``target``.
        Cancelled
            The callback stopped the work.
        ModelError, ModelOutputError
            The model raised or returned unusable output.
        """
        return self._explain(X, target, progress, callback)[0]

    def explain(self, X: Any, **kwargs: Any) -> Explanation:
        """Same as calling the explainer."""
        return self(X, **kwargs)

    def shap_values(self, X: Any, *, target: Any = ALL, progress: bool | None = None,
                    callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
        """Shapley values in shap's layout, for code ported from shap.

        Returns
        -------
        ndarray
            (n, n_features) for one explained output, (n, n_features, n_labels)
            otherwise; without the first axis when ``X`` is a single row.
        """
        exp, single = self._explain(X, target, progress, callback)
        values = exp.shap_values
        return values[0] if single else values

    # --------------------------------------------------------------- internals
    def _entropy(self) -> int:
        return int(check_random_state(self.random_state).integers(0, 2**63 - 1))

    def _explain_table(self, X: Any, progress: bool | None, callback: Any
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Features, int, int, bool]:
        masker = self.masker
        rows, single = masker.rows(X)
        n, d = rows.shape
        nb = masker.n_background
        entropy = self._entropy()
        plan = self._plan(d, np.random.default_rng(entropy))
        # The rows (for the outputs) and the background (for the base value) go to
        # the model in its first call.
        head = np.concatenate([rows, masker.data])
        if plan is not None:
            Z, state = plan
            v, out = masker.evaluate(self.model, rows, Z, head=head, progress=progress,
                                     callback=callback)
        else:
            out = masker.outputs(self.model, head)
        fx = out[:n]
        base = masker.weights @ out[n:]
        if plan is not None:
            # One design for all rows (the same seed gives every row the same
            # coalitions): the model calls are shared, and the solver runs once
            # with every (row, output) as a column of one right-hand side.
            k = base.shape[0]
            cols = v.transpose(1, 0, 2).reshape(Z.shape[0], n * k)
            phi = self._finish(Z, state, cols, np.tile(base, n), fx.reshape(n * k))
            values = np.ascontiguousarray(phi.reshape(d, n, k).transpose(1, 2, 0))
            coalitions = int(Z.shape[0]) * n
        else:
            tracker = Progress(callback, n * self._coalitions(d))
            phis, coalitions = [], 0
            for i in range(n):
                game = Game(masker.representation(rows[i]), self.model, progress=progress,
                            tracker=tracker)
                phis.append(self._solve(game, base, fx[i], np.random.default_rng(entropy)))
                coalitions += game.n_evals
            values = np.stack([p.T for p in phis])
        base_values = np.tile(base, (n, 1))
        features = Features(kind="tabular", names=list(self.feature_names), data=rows)
        model_rows = head.shape[0] + coalitions * nb
        return values, base_values, fx, features, coalitions + 2 * n, model_rows, single

    def _explain_items(self, X: Any, progress: bool | None, callback: Any
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Features, int, int, bool]:
        items, single = self.masker.split(X)
        entropy = self._entropy()
        reps = [self.masker.representation(item) for item in items]
        tracker = Progress(callback, sum(self._coalitions(r.n_features) + 2 for r in reps))
        phis, bases, outs, n_evals = [], [], [], 0
        for rep in reps:
            game = Game(rep, self.model, progress=progress, tracker=tracker)
            ends = game(np.array([np.zeros(rep.n_features, bool),
                                  np.ones(rep.n_features, bool)]))
            phis.append(self._solve(game, ends[0], ends[1], np.random.default_rng(entropy)))
            bases.append(ends[0])
            outs.append(ends[1])
            n_evals += game.n_evals
        width = max(p.shape[0] for p in phis)
        k = phis[0].shape[1]
        values = np.zeros((len(items), k, width))
        for i, p in enumerate(phis):  # shorter documents / fewer segments: zero padding
            values[i, :, : p.shape[0]] = p.T
        features = self.masker.features(reps, width)
        return (values, np.array(bases), np.array(outs), features, n_evals, n_evals,
                single)

    def _explain(self, X: Any, target: Any = ALL, progress: bool | None = None,
                 callback: Any = None) -> tuple[Explanation, bool]:
        callback = checked_callback(callback)
        explain = self._explain_table if self.masker.kind == "tabular" else self._explain_items
        values, base_values, fx, features, n_evals, model_rows, single = explain(
            X, progress, callback)
        if fx.shape[1] != base_values.shape[1]:
            raise InputError(describe("model", "the same number of outputs on every input",
                                      got_text=f"{base_values.shape[1]} and {fx.shape[1]}"))
        gap = np.abs(values.reshape(values.shape[0], values.shape[1], -1).sum(-1)
                     + base_values - fx)
        gap_max = float(gap.max())
        scale = 1.0 + float(np.abs(fx).max()) + float(np.abs(base_values).max())
        if gap_max > 1e-8 * scale:
            warnings.warn(
                f"{type(self).__name__}: Shapley values miss efficiency by {gap_max:.3g} "
                "(sum of values + base value != model output); the model may be "
                "non-deterministic or numerically unstable.", EfficiencyWarning, stacklevel=4)
        labels, values, base_values = select_target(target, values, base_values, fx,
                                                    self.model.output_names)
        k = fx.shape[1]
        mode = "classification" if (self.model.output == "probability" or k > 1) \
            else "regression"
        params = {"explainer": type(self).__name__,
                  "random_state": random_state_param(self.random_state),
                  "efficiency_max_abs_error": gap_max,
                  "model_rows": int(model_rows),
                  "batch_size": self.batch_size,
                  **self._params()}
        exp = Explanation(
            values=values, labels=labels, method=self.method, features=features,
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

    def _coalitions(self, d):
        return 0 if d == 1 else 2 * ((min(self._budget(d), 2**d if d < 63 else 2**62) - 2) // 2)

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
        if d == 1 or n_orders * (d - 1) > _SHARED_CALLS_MAX:
            return None
        orders = permutation_orders(d, n_orders, rng, self.sampling)
        return permutation_masks(orders), orders

    def _finish(self, Z, state, v, v_empty, v_full):
        return permutation_finish(state, v, v_empty, v_full)
