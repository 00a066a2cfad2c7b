"""Accumulated local effects (ALE): 1-D, 2-D and categorical, with bootstrap bands.

ALE (Apley & Zhu, 2020) describes how a model's output changes with one
feature (or a pair) while the other features keep the values they have in the
data, so unlike partial dependence it never evaluates the model far from the
data when features are correlated.

For a continuous feature the range is cut into quantile bins
``z_0 < z_1 < ... < z_K``; every row is moved to the two edges of its own bin,
the differences ``f(z_k, x_rest) - f(z_{k-1}, x_rest)`` are averaged per bin and
accumulated, and the curve is centred so that its mean over the data is 0.
A pair of features uses the second differences over the four corners of each
cell, with the two main effects and a constant removed (ALEPlot's estimator;
empty cells take the value of the nearest non-empty cell). A categorical
feature has no natural order: its categories are ordered by how alike the
other features are in each category (the sum over the other features of the
Kolmogorov-Smirnov distance of numeric ones and the total-variation distance
of categorical ones, reduced to one dimension by classical multidimensional
scaling, as in R's ``iml`` and PyALE), and the effect between neighbouring
categories is averaged over the rows of both.

Every model evaluation of every requested feature is one chunked model call
(:meth:`whylens.models.Model.call_chunked`: the memory bound, progress and
cancellation come from there). Bootstrap bands resample rows and reuse the
local differences already computed, so they cost no further model calls.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from whylens._convention import check_batch_size, checked_callback
from whylens._validation import (
    check_names,
    check_positive_int,
    check_random_state,
    random_state_param,
)
from whylens.errors import (
    InputError,
    NotSupportedError,
    describe,
)
from whylens.inspection._ale_estimators import (
    Job,
    Plan,
    categorical_job,
    continuous_job,
    order_categories,
    pair_job,
)
from whylens.inspection._ale_result import ALEEffect, ALEResult
from whylens.inspection._arguments import (
    categorical_mask,
    feature_sets,
    float_array,
    output_indices,
)
from whylens.inspection._tables import column_index
from whylens.models import DEFAULT_MEMORY_BUDGET, as_model
from whylens.models._frames import is_dataframe, table_values
from whylens.representations._table_checks import check_table

__all__ = ["accumulated_local_effects", "order_categories"]

#: Quantile levels of the rug the displays draw under a 1-D curve.
DECILES = np.linspace(0.1, 0.9, 9)


# ---------------------------------------------------------------- arguments
def _check_confidence(confidence: Any) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) \
            or not 0.0 < float(confidence) < 1.0:
        raise InputError(describe("confidence", "a level strictly between 0 and 1", confidence,
                                  "Pass e.g. confidence=0.95."))
    return float(confidence)


def _edges(x: np.ndarray, spec: Any, name: str) -> np.ndarray:
    """Bin edges of one continuous feature: quantiles (R's type 1) or the user's."""
    if isinstance(spec, (bool, np.bool_)) or isinstance(spec, numbers.Integral):
        k = check_positive_int("bins", spec)
        edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, k + 1), method="inverted_cdf"))
        edges = np.unique(np.r_[x.min(), edges])
        if edges.size < 2:
            raise InputError(describe(
                "features", "a feature that takes at least two values in X",
                got_text=f"{name!r}, which is constant ({x[0]!r})",
                fix="Its effect is zero; leave it out."))
        return edges
    edges = float_array(spec, "bins", "an int or an array of bin edges")
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)) \
            or np.any(np.diff(edges) <= 0):
        raise InputError(describe("bins", "at least two finite, strictly increasing edges",
                                  spec))
    if x.min() < edges[0] or x.max() > edges[-1]:
        raise InputError(describe(
            "bins", f"edges that cover every value of {name!r} in X "
            f"([{x.min():.6g}, {x.max():.6g}])",
            got_text=f"edges from {edges[0]:.6g} to {edges[-1]:.6g}",
            fix="Widen the first and last edge, or pass an int for quantile bins."))
    return edges


def _bins_for(bins: Any, column: int, names: list[str]) -> Any:
    if isinstance(bins, Mapping):
        for key, value in bins.items():
            if column_index(key, names, "bins") == column:
                return value
        return 20
    return bins


def _resolve_targets(target: Any, n_outputs: int, output: str,
                     output_names: Sequence[str] | None) -> list[int]:
    if target is None and n_outputs == 2 and output == "probability":
        return [1]  # a binary classifier: the positive class (as scikit-learn)
    return output_indices(target, n_outputs, output_names)


# ---------------------------------------------------------------- public entry
def accumulated_local_effects(
    model: Any,
    X: Any,
    features: Any,
    *,
    bins: int | Sequence[float] | Mapping[Any, Any] = 20,
    categorical_features: Any = None,
    target: Any = None,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    feature_names: Sequence[str] | None = None,
    batch_size: int | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    progress: bool | None = None,
    callback: Callable[[int, int], Any] | None = None,
) -> ALEResult:
    """Accumulated local effects of features and pairs of features (Apley & Zhu).

    Parameters
    ----------
    model : callable, scikit-learn estimator or pipeline, torch module, or Model
        Wrapped by :func:`whylens.models.as_model` (``predict_proba`` for a
        classifier, else ``decision_function``, else ``predict``; pass
        ``as_model(est, output=...)`` for another).
    X : array-like or DataFrame of shape (n, d)
        The data the effects are measured on (numeric; categorical columns as
        codes). A DataFrame reaches the model as a DataFrame of its columns
        and dtypes.
    features : int, str, tuple or list
        A column (index or name) for a 1-D effect; a tuple of two columns for
        a 2-D effect; a list of columns and pairs for several effects at once,
        so ``[0, 1]`` asks for two 1-D effects and ``[(0, 1)]`` for one 2-D.
    bins : int, array-like of edges, or dict, default=20
        Bins per continuous feature (quantiles of ``X``, R's type 1, so each
        bin holds data; fewer when values repeat), or the bin edges, or a dict
        ``{feature: int or edges}`` (other features get 20). User edges must
        cover the feature's values; an empty bin adds no effect.
    categorical_features : int, str, sequence of int or str, or boolean mask, optional
        Columns whose values are categories (bool columns of a DataFrame are
        always): one column, several, or a mask of ``n_features`` booleans;
        negative indices count from the end; ``None`` (not ``[]``) for none.
        Their effect is given at each category, in the similarity order of
        :func:`order_categories`.
    target : None, int, str, sequence, or "all"
        Model outputs whose effects are computed: ``None`` gives every output,
        except the positive class of a binary classifier's probabilities (as
        scikit-learn's partial dependence).
    n_bootstrap : int, default=0
        Bootstrap resamples of the rows for the bands (``0``: no bands). The
        bin edges and category order stay those of ``X``; a bin a resample
        leaves empty keeps the full data's mean local effect.
    confidence : float, default=0.95
        Level of the percentile bands.
    random_state : None, int or numpy.random.Generator
        Seeds the bootstrap; the same seed gives the same bands.
    feature_names : sequence of str, optional
        Names of the columns (default: a DataFrame's columns, else x0, x1, ...).
    batch_size : int, optional
        Rows per model call (``None``: from ``memory_budget``).
    memory_budget : int, default=256 MiB
    progress : bool, optional
        A progress bar over the model evaluations.
    callback : callable, optional
        ``callback(done, total)`` after every chunk of model evaluations;
        raising :class:`~whylens.errors.Cancelled` or returning ``False`` stops.

    Returns
    -------
    ALEResult
        One :class:`ALEEffect` per requested feature or pair. Model
        evaluations: 2n per continuous feature, at most 3n per categorical
        one, 4n per pair, all in one chunked call.

    Raises
    ------
    InputError, InputTypeError
        A feature not in ``X``, a constant feature, bad ``bins``,
        ``categorical_features`` (an empty list, a column not in ``X``, a
        mask of the wrong length), ``n_bootstrap``, ``confidence``, ``target``
        or ``batch_size``, a non-numeric or non-finite ``X``.
    NotSupportedError
        A pair with a categorical feature.
    ModelError, ModelOutputError
        The model raised or returned unusable output.
    Cancelled
        The callback stopped the work.

    References
    ----------
    D. W. Apley and J. Zhu, "Visualizing the effects of predictor variables in
    black box supervised learning models", JRSS B 82(4), 2020.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(size=(500, 2))
    >>> ale = accumulated_local_effects(lambda A: A[:, 0] ** 2 + A[:, 1], X, [0, 1], bins=10)
    >>> ale[1].values.shape
    (1, 11)
    """
    n_bootstrap = check_positive_int("n_bootstrap", n_bootstrap, minimum=0)
    confidence = _check_confidence(confidence)
    check_random_state(random_state)
    batch_size = check_batch_size(batch_size)
    callback = checked_callback(callback)
    bool_columns: list[bool] = []
    if is_dataframe(X):
        bool_columns = [np.dtype(t).kind == "b" if isinstance(t, np.dtype) else False
                        for t in X.dtypes]
    values, schema = table_values(X, "X")
    if np.ndim(values) != 2:
        raise InputError(describe("X", "a 2-D table of shape (n, d)", got_text=f"{np.ndim(values)}"
                                  "-D data", fix="Pass X.reshape(-1, 1) for a single feature."))
    C = check_table(values, "X")
    n, d = C.shape
    names = check_names("feature_names", schema.names if feature_names is None and schema
                        else feature_names, d, "x")
    bool_columns = bool_columns or [False] * d
    specs = feature_sets(features, names)
    categorical = categorical_mask(categorical_features, names, bool_columns)
    if isinstance(bins, Mapping):
        for key in bins:
            column_index(key, names, "bins")
    wrapped = as_model(model, chunk_size=batch_size, memory_budget=memory_budget)
    to_model = (lambda rows: rows) if schema is None else schema.to_frame

    plan = Plan(C)
    jobs: list[Job] = []
    for spec in specs:
        if len(spec) == 1:
            j = spec[0]
            if categorical[j]:
                jobs.append(categorical_job(C, plan, j, categorical))
            else:
                jobs.append(continuous_job(C, plan, j, _edges(C[:, j], _bins_for(bins, j, names),
                                                               names[j])))
        else:
            j, k = spec
            if categorical[j] or categorical[k]:
                raise NotSupportedError(describe(
                    "features", "a pair of two continuous features for a 2-D effect",
                    got_text=f"({names[j]!r}, {names[k]!r}) with a categorical feature",
                    fix="Ask for the 1-D effects of a categorical feature instead."))
            jobs.append(pair_job(C, plan, j, k,
                                  _edges(C[:, j], _bins_for(bins, j, names), names[j]),
                                  _edges(C[:, k], _bins_for(bins, k, names), names[k])))
    plan.freeze()

    n_evals = 0
    targets: list[int] | None = None
    if target is not None and not (isinstance(target, str) and target == "all"):
        # Check the target on one row before spending the real evaluations.
        probe = wrapped(to_model(C[:1].copy()))
        n_evals += 1
        targets = _resolve_targets(target, probe.shape[1], wrapped.output,
                                   wrapped.output_names)
    # Chunks are sized from the float rows (a DataFrame's per-row size is only guessed).
    out = wrapped.call_chunked(plan.total, lambda a, b: to_model(plan.chunk(a, b)),
                               sample=plan.chunk(0, 1), progress=progress,
                               callback=callback, unit="rows")
    n_evals += plan.total
    if targets is None:
        targets = _resolve_targets(target, out.shape[1], wrapped.output, wrapped.output_names)
    out = out[:, targets]

    rng = check_random_state(random_state)
    seeds = rng.integers(0, 2**63 - 1, size=n_bootstrap)
    deciles = np.quantile(C, DECILES, axis=0)
    states = [job.setup([out[s] for s in job.slices]) for job in jobs]
    curves = [job.estimate(np.ones((n, 1)), state)[0]
              for job, state in zip(jobs, states, strict=True)]
    reps = [np.empty((n_bootstrap, *curve.shape)) for curve in curves]
    # Resamples as row weights, a block of them at a time (one weight column each,
    # drawn from its own seed, so the bands do not depend on the block size).
    block = max(1, min(n_bootstrap, 2**21 // n))
    for start in range(0, n_bootstrap, block):
        stop = min(start + block, n_bootstrap)
        W = np.empty((n, stop - start))
        for c, seed in enumerate(seeds[start:stop]):
            W[:, c] = np.bincount(np.random.default_rng(int(seed)).integers(0, n, size=n),
                                  minlength=n)
        for job, state, rep in zip(jobs, states, reps, strict=True):
            rep[start:stop] = job.estimate(W, state)
    effects = []
    for job, curve, rep in zip(jobs, curves, reps, strict=True):
        lower = upper = std = None
        if n_bootstrap:
            alpha = (1.0 - confidence) / 2
            lower, upper = np.quantile(rep, [alpha, 1.0 - alpha], axis=0)
            std = rep.std(axis=0, ddof=1) if n_bootstrap > 1 else np.zeros_like(curve)
        effects.append(ALEEffect(
            features=tuple(names[c] for c in job.columns), columns=job.columns, kind=job.kind,
            grid=job.grid, values=curve, counts=job.counts, lower=lower, upper=upper, std=std,
            deciles=[deciles[:, c].copy() for c in job.columns]))
    out_names = wrapped.output_names
    return ALEResult(
        effects=effects, targets=targets,
        target_names=[out_names[t] if out_names and t < len(out_names) else str(t)
                      for t in targets],
        feature_names=names, confidence=confidence, n_evals=n_evals,
        params={"bins": bins if isinstance(bins, numbers.Integral) else encode_bins(bins),
                "categorical_features": np.flatnonzero(categorical).tolist(),
                "target": _target_param(target),
                "n_bootstrap": n_bootstrap, "confidence": confidence,
                "random_state": random_state_param(random_state), "batch_size": batch_size})


def _target_param(target: Any) -> Any:
    """``target`` as plain JSON-friendly values for ``params``."""
    if target is None or isinstance(target, (str, np.str_)):
        return None if target is None else str(target)
    if isinstance(target, numbers.Integral):
        return int(target)
    return [str(t) if isinstance(t, (str, np.str_)) else int(t) for t in target]


def encode_bins(bins: Any) -> Any:
    """``bins`` as plain JSON-friendly values for ``params``."""
    if isinstance(bins, Mapping):
        return {str(k): encode_bins(v) for k, v in bins.items()}
    if isinstance(bins, numbers.Integral):
        return int(bins)
    return np.asarray(bins, dtype=np.float64).tolist()
