"""Partial dependence (PD) and individual conditional expectation (ICE), 1-way and 2-way.

Brute force evaluates the model on every row of ``X`` with the feature(s) set
to every grid value: all feature sets and all grid points go through *one*
chunked model call (rows built chunk by chunk, so memory stays bounded).
The recursion method walks scikit-learn's trees instead (no model calls);
where both apply they agree to rounding.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from whylens._convention import check_batch_size, checked_callback
from whylens._validation import check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe
from whylens.inspection._arguments import (
    categorical_mask,
    choice,
    feature_sets,
    float_array,
    output_indices,
    row_count,
)
from whylens.inspection._pd_grid import (
    GridRows,
    cartesian,
    center,
    check_percentiles,
    deciles_of,
    frame_schema,
    grid_values,
)
from whylens.inspection._pd_recursion import (
    recursion_average,
    recursion_names,
    recursion_problem,
)
from whylens.inspection._results import InspectionResult, SubsamplingWarning
from whylens.models import Model, as_model
from whylens.models._frames import table_values

__all__ = ["PartialDependenceResult", "partial_dependence"]

_KINDS = ("average", "individual", "both")
_METHODS = ("auto", "brute", "recursion")


@dataclasses.dataclass
class PartialDependenceResult(InspectionResult):
    """Partial dependence and ICE curves of one or several feature sets.

    Attributes
    ----------
    features : list of tuple of int
        One tuple per feature set: one column (1-way) or two (2-way).
    feature_names : list of str
        Names of every column of ``X``.
    grid_values : list of list of ndarray
        Per feature set, the grid of each of its columns.
    average : list of ndarray or None
        Per feature set, the PD of shape (n_targets, *grid_shape); None for
        ``kind="individual"``.
    individual : list of ndarray or None
        Per feature set, the ICE curves of shape (n_targets, n_rows_used,
        *grid_shape); None for ``kind="average"``.
    targets : list of int
        The model outputs shown (indices).
    target_names : list of str
        Their names (class names, or ``"output 0"``...).
    kind : str
    centered : bool
        Whether every curve starts at 0 (its value at the first grid point,
        the grid's corner for 2-way, was subtracted).
    method : str
        ``"brute"`` or ``"recursion"`` (the one used).
    categorical : list of tuple of bool
        Per feature set, whether each column was treated as categorical.
    deciles : dict of int -> ndarray
        The deciles of each column of the feature sets in ``X`` (for the rug).
    n_samples : int
        Rows of ``X``.
    sample_indices : ndarray or None
        Rows the curves were computed on, when ``subsample`` took fewer than
        all (a :class:`SubsamplingWarning` said so too); None when all rows
        were used. Recursion averages over the training data instead.
    output : str
        What the model's outputs are (``"probability"``, ``"decision"``,
        ``"prediction"``, ``"raw"``...).
    params : dict
        The arguments that reproduce the result.
    n_evals : int
        Model evaluations (rows).
    """

    FORMAT = "whylens.PartialDependenceResult/1"

    features: list[tuple[int, ...]]
    feature_names: list[str]
    grid_values: list[list[np.ndarray]]
    average: list[np.ndarray] | None
    individual: list[np.ndarray] | None
    targets: list[int]
    target_names: list[str]
    kind: str
    centered: bool
    method: str
    categorical: list[tuple[bool, ...]]
    deciles: dict[int, np.ndarray]
    n_samples: int
    sample_indices: np.ndarray | None
    output: str
    params: dict[str, Any]
    n_evals: int

    def names_of(self, index: int) -> list[str]:
        """The column names of feature set ``index``."""
        return [self.feature_names[j] for j in self.features[index]]


# ----------------------------------------------------------------------------- public
def partial_dependence(
    model: Any,
    X: Any,
    features: Any,
    *,
    kind: str = "average",
    centered: bool = False,
    grid_resolution: int = 100,
    percentiles: tuple[float, float] = (0.05, 0.95),
    categorical_features: Any = None,
    subsample: int | float | None = None,
    target: Any = None,
    method: str = "auto",
    output: str = "auto",
    random_state: Any = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    callback: Callable[[int, int], Any] | None = None,
) -> PartialDependenceResult:
    """Partial dependence and ICE curves of features, for every output (class) of a model.

    The ICE curve of a row is the model's output as one feature (or a pair)
    moves over a grid while the row's other features stay as they are; the
    partial dependence is their average over the rows.

    Parameters
    ----------
    model : fitted scikit-learn estimator or pipeline, callable, torch module, or Model
        Wrapped by :func:`whylens.models.as_model`.
    X : array-like or DataFrame of shape (n_samples, n_features), numeric
        The rows to average over; the grid comes from them too. A DataFrame
        reaches the model as a DataFrame.
    features : int, str, pair, or list of ints, strs and pairs
        The columns (indices or names): each int or name is a 1-way PD, each
        pair (tuple or list of two) a 2-way PD; ``features=[0, "age", (0,
        "age")]`` computes three. (scikit-learn's ``partial_dependence`` reads
        a list ``[0, 1]`` as one 2-way set; pass ``[(0, 1)]`` here, as in
        its ``PartialDependenceDisplay``.) A bare tuple is one set.
    kind : {"average", "individual", "both"}, default="average"
        The PD, the ICE curves, or both.
    centered : bool, default=False
        Subtract from each curve its value at the first grid point (the
        grid's corner for 2-way): centred ICE (c-ICE), whose spread shows
        interactions.
    grid_resolution : int, default=100
        Grid points per column, evenly spaced between ``percentiles``; a
        column with fewer distinct values (or categorical) uses them all.
    percentiles : (float, float), default=(0.05, 0.95)
        Ends of the grid, as quantiles of the column.
    categorical_features : list of columns or boolean mask, optional
        Columns whose grid is their distinct values (and drawn as bars).
    subsample : int or float, optional
        Rows to use (a count, or a fraction), drawn without replacement; the
        result's ``sample_indices`` says which, and a
        :class:`~whylens.inspection.SubsamplingWarning` is issued. ``None``:
        every row. Never applied silently.
    target : None, "all", int, str, or list of them
        Outputs to show: ``None`` or ``"all"`` every output (every class of
        a classifier), else the given indices or output (class) names.
    method : {"auto", "brute", "recursion"}, default="auto"
        ``"brute"`` evaluates the model on every row and grid point (one
        chunked call for everything). ``"recursion"`` walks the trees of a
        scikit-learn decision tree, random forest, extra trees or
        (histogram) gradient boosting regressor or classifier, averaging
        over the *training* data (no model calls); it gives the average
        only, and a classifier's decision function (``output="decision"``).
        The boosting's initial prediction is added back, so the recursion
        equals brute force on the training data where the trees allow it
        (scikit-learn leaves that constant out). ``"auto"``: recursion when
        it applies to what was asked (no ``subsample``, ``kind="average"``),
        else brute force.
    output : {"auto", "probability", "decision", "predict"}, default="auto"
        Which output of a scikit-learn estimator (see
        :func:`~whylens.models.as_model`): ``"auto"`` gives a classifier's
        probabilities, a regressor's predictions.
    random_state : None, int or numpy.random.Generator
        Seeds ``subsample``.
    batch_size : int, optional
        Rows per model call; ``None`` sizes the chunks from the memory budget.
    progress : bool, optional
        A progress bar (default: when stderr is a terminal and the work takes
        several chunks).
    callback : callable, optional
        ``callback(done, total)`` after every chunk; raising
        :class:`~whylens.errors.Cancelled` or returning ``False`` stops the work.

    Returns
    -------
    PartialDependenceResult
        Per feature set: ``grid_values``, ``average`` of shape (n_targets,
        *grid_shape) and/or ``individual`` of shape (n_targets, n_rows_used,
        *grid_shape).

    Raises
    ------
    InputError
        A feature not in ``X``, ``grid_resolution`` < 2, bad percentiles, a
        target that is not an output of the model, a regressor asked for
        probabilities, ``method="recursion"`` where it does not apply (the
        message says why).
    InputTypeError
        Arguments of the wrong type, a non-numeric ``X``.
    ModelError, ModelOutputError
        The model raised or returned unusable output.
    Cancelled
        The callback stopped the work.
    """
    kind = choice(kind, _KINDS, "kind")
    method = choice(method, _METHODS, "method")
    if isinstance(grid_resolution, bool) or not isinstance(grid_resolution, (int, np.integer)) \
            or grid_resolution < 2:
        raise InputError(describe("grid_resolution", "an integer >= 2 (grid points per "
                                  "column)", grid_resolution))
    grid_resolution = int(grid_resolution)
    percentiles = check_percentiles(percentiles)
    batch_size = check_batch_size(batch_size)
    callback = checked_callback(callback)
    if not isinstance(centered, (bool, np.bool_)):
        raise InputTypeError(describe("centered", "True or False", centered))

    values, schema = table_values(X, "X")
    if schema is None:
        values = float_array(values, "X", "a numeric array or DataFrame",
                             "Encode categorical columns as numbers first.")
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise InputError(describe("X", "a non-empty 2-D array (n_samples, n_features)",
                                  got_text=f"shape {values.shape}"))
    n, d = values.shape
    names = schema.names if schema is not None else [f"x{j}" for j in range(d)]
    sets = feature_sets(features, names)
    categorical = categorical_mask(categorical_features, names)

    estimator = model
    _check_output(estimator, output)
    problem = recursion_problem(estimator, output, kind, subsample)
    if method == "recursion" and problem is not None:
        raise InputError(describe("method", "a method that applies to this model and request",
                                  "recursion", f"The recursion does not apply: {problem}. "
                                  "Pass method='brute'."))
    used = "recursion" if method == "recursion" or (method == "auto" and problem is None) \
        else "brute"

    grids_1d = [[grid_values(values[:, j], bool(categorical[j]), grid_resolution, percentiles,
                       names[j]) for j in cols] for cols in sets]
    grids = [cartesian(g) for g in grids_1d]
    shapes = [tuple(v.shape[0] for v in g) for g in grids_1d]
    deciles = deciles_of(values, sets)

    rng = check_random_state(random_state)
    sample_indices = None
    if used == "recursion":
        wrapped = None
        per_set = [recursion_average(estimator, g, cols)
                   for g, cols in zip(grids, sets, strict=True)]
        k = per_set[0].shape[0]
        output_names = recursion_names(estimator, k)
        out_kind = "decision" if output == "decision" else "prediction"
        n_evals = 0
        m = None  # the recursion averages over the training data
    else:
        wrapped = as_model(estimator, output=output, chunk_size=batch_size)
        m = row_count(subsample, n, "subsample")
        if m < n:
            sample_indices = np.sort(rng.choice(n, size=m, replace=False))
            warnings.warn(f"partial_dependence: the curves use {m} of the {n} rows of X "
                          f"(subsample={subsample!r}); result.sample_indices says which.",
                          SubsamplingWarning, stacklevel=2)
        rows = values if sample_indices is None else values[sample_indices]
        build = GridRows(rows, None if schema is None else frame_schema(
            schema, sets, categorical), grids, sets)
        k, output_names = _outputs(wrapped, build)
        out_kind = wrapped.output
    chosen = output_indices(target, k, output_names)
    target_names = [output_names[t] if output_names else f"output {t}" for t in chosen]

    average: list[np.ndarray] | None = None
    individual: list[np.ndarray] | None = None
    if used == "recursion":
        average = [a[chosen].reshape(len(chosen), *shape) for a, shape in
                   zip(per_set, shapes, strict=True)]
    else:
        Y = wrapped.call_chunked(build.total, build, sample=build(0, 1), progress=progress,
                                 callback=callback)
        n_evals = build.total
        ice = []
        for s, shape in enumerate(shapes):
            part = Y[build.offsets[s]:build.offsets[s + 1], chosen]
            points = int(np.prod(shape))
            curves = part.reshape(points, m, len(chosen)).transpose(2, 1, 0)
            ice.append(curves.reshape(len(chosen), m, *shape))
        if kind in ("individual", "both"):
            individual = ice
        if kind in ("average", "both"):
            average = [c.mean(axis=1) for c in ice]
    if centered:
        average = None if average is None else [center(a, 1) for a in average]
        individual = None if individual is None else [center(c, 2) for c in individual]
    return PartialDependenceResult(
        features=sets, feature_names=names, grid_values=grids_1d, average=average,
        individual=individual, targets=[int(t) for t in chosen], target_names=target_names,
        kind=kind, centered=bool(centered), method=used,
        categorical=[tuple(bool(categorical[j]) for j in cols) for cols in sets],
        deciles=deciles, n_samples=n, sample_indices=sample_indices, output=out_kind,
        params={"grid_resolution": grid_resolution, "percentiles": percentiles,
                "subsample": subsample, "random_state": random_state_param(random_state),
                "method": method, "output": output, "batch_size": batch_size,
                "n_rows_used": m},
        n_evals=int(n_evals))


def _check_output(estimator: Any, output: str) -> None:
    """A regressor asked for probabilities (or decision scores) is refused by name."""
    from sklearn.base import is_regressor

    if not isinstance(estimator, Model) and hasattr(estimator, "fit") and is_regressor(
            estimator) and output in ("probability", "decision"):
        raise InputError(describe(
            "output", "'auto' or 'predict' for a regressor", output,
            f"{type(estimator).__name__} is a regressor: it has no class "
            f"{'probabilities' if output == 'probability' else 'decision scores'}."))


def _outputs(wrapped: Model, build: GridRows) -> tuple[int, list[str] | None]:
    """The number of outputs and their names (from the model, or one row's output)."""
    names = wrapped.output_names
    if names is not None:
        return len(names), names
    return int(wrapped(build(0, 1), progress=False).shape[1]), None


