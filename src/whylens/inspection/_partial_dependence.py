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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import check_batch_size, checked_callback, resolve_labels_argument
from whylens._validation import check_positive_int, check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe
from whylens.inspection._results import InspectionResult, SubsamplingWarning
from whylens.inspection._tables import column_index, cycled_rows
from whylens.models import Model, as_model
from whylens.models._frames import TableSchema, table_values

__all__ = ["PartialDependenceResult", "partial_dependence"]

_KINDS = ("average", "individual", "both")
_METHODS = ("auto", "brute", "recursion")
#: Probabilities of the deciles drawn as a rug under a PD plot.
DECILES = np.arange(0.1, 1.0, 0.1)


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


# ----------------------------------------------------------------------------- arguments
def _feature_sets(features: Any, names: list[str]) -> list[tuple[int, ...]]:
    def one(item: Any) -> tuple[int, ...]:
        if isinstance(item, (str, np.str_, int, np.integer)) and not isinstance(item, bool):
            return (column_index(item, names, "features"),)
        if isinstance(item, (tuple, list, np.ndarray)):
            cols = tuple(column_index(c, names, "features") for c in item)
            if len(cols) not in (1, 2) or len(set(cols)) != len(cols):
                raise InputError(describe(
                    "features", "one column or a pair of two different columns per entry",
                    item, "Pass e.g. features=[0, 'age', (0, 'age')]."))
            return cols
        raise InputTypeError(describe("features", "column indices or names, or pairs of them",
                                      item))

    if isinstance(features, (str, np.str_, int, np.integer)) and not isinstance(features, bool):
        return [one(features)]
    if isinstance(features, tuple):  # one pair, as scikit-learn's partial_dependence reads it
        return [one(features)]
    try:
        items = list(features)
    except TypeError as exc:
        raise InputTypeError(describe("features", "a column, or a list of columns and pairs",
                                      features)) from exc
    if not items:
        raise InputError(describe("features", "at least one column", features))
    return [one(item) for item in items]


def _categorical_mask(categorical_features: Any, names: list[str]) -> np.ndarray:
    d = len(names)
    mask = np.zeros(d, dtype=bool)
    if categorical_features is None:
        return mask
    items = list(np.asarray(categorical_features).ravel()) if not isinstance(
        categorical_features, (list, tuple)) else list(categorical_features)
    if not items:
        raise InputError(describe("categorical_features", "None or a non-empty list",
                                  categorical_features, "Pass None when no feature is "
                                  "categorical."))
    if all(isinstance(v, (bool, np.bool_)) for v in items):
        if len(items) != d:
            raise InputError(describe("categorical_features", f"a boolean mask of {d} values",
                                      got_text=f"{len(items)} values"))
        return np.asarray(items, dtype=bool)
    for item in items:
        mask[column_index(item, names, "categorical_features")] = True
    return mask


def _percentiles(percentiles: Any) -> tuple[float, float]:
    try:
        low, high = (float(p) for p in percentiles)
    except (TypeError, ValueError) as exc:
        raise InputError(describe("percentiles", "two numbers (low, high) in [0, 1]",
                                  percentiles)) from exc
    if not 0.0 <= low < high <= 1.0:
        raise InputError(describe("percentiles", "0 <= low < high <= 1", percentiles,
                                  "Pass e.g. percentiles=(0.05, 0.95)."))
    return low, high


def _choice(value: Any, allowed: Sequence[str], argument: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InputError(describe(argument, f"one of {tuple(allowed)}", value))
    return value


def _grid(column: np.ndarray, categorical: bool, grid_resolution: int,
          percentiles: tuple[float, float], name: str) -> np.ndarray:
    """scikit-learn's grid: the unique values when categorical or fewer than the
    resolution, else evenly spaced between the percentiles (``mquantiles``)."""
    from scipy.stats.mstats import mquantiles

    uniques = np.unique(column)
    if categorical or uniques.size < grid_resolution:
        return uniques
    low, high = mquantiles(column, prob=percentiles, axis=0)
    if np.allclose(low, high):
        raise InputError(describe(
            "percentiles", f"percentiles of column {name!r} that differ", percentiles,
            got_text=f"{percentiles}, which give the same value {low!r}",
            fix="Widen the percentiles, or mark the column categorical."))
    return np.linspace(low, high, num=grid_resolution, endpoint=True)


def _cartesian(values: list[np.ndarray]) -> np.ndarray:
    mesh = np.meshgrid(*values, indexing="ij")
    return np.stack([g.ravel() for g in mesh], axis=1)


def _row_count(subsample: Any, n: int) -> int:
    if subsample is None:
        return n
    if isinstance(subsample, (float, np.floating)):
        if not 0.0 < subsample <= 1.0:
            raise InputError(describe("subsample", "a fraction in (0, 1] or a row count",
                                      subsample))
        return max(1, round(float(subsample) * n))
    return min(n, check_positive_int("subsample", subsample))


# ----------------------------------------------------------------------------- recursion
def _recursion_offset(estimator: Any) -> np.ndarray | None:
    """What the tree recursion leaves out of the model's raw output (the boosting's
    initial prediction), of shape (n_outputs,); None when it is not a constant."""
    if hasattr(estimator, "_baseline_prediction"):  # histogram gradient boosting
        return np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel()
    if hasattr(estimator, "estimators_") and hasattr(estimator, "_raw_predict_init"):
        init = getattr(estimator, "init", None)
        if init is not None and init != "zero":
            return None  # an init estimator: not a constant offset
        n_features = int(estimator.n_features_in_)
        return np.asarray(estimator._raw_predict_init(np.zeros((1, n_features), np.float32)),
                          dtype=np.float64).ravel()
    return np.zeros(1)


def _recursion_problem(estimator: Any, output: str, kind: str, subsample: Any
                       ) -> str | None:
    """Why the recursion cannot give what was asked (None: it can)."""
    if not hasattr(estimator, "_compute_partial_dependence_recursion") or isinstance(
            estimator, Model):
        return ("it needs a scikit-learn decision tree, random forest or (histogram) gradient "
                f"boosting, got {type(estimator).__name__}")
    if kind != "average":
        return "it gives the average only (ICE curves need brute force)"
    if subsample is not None:
        return "it averages over the training data, so subsample= has no meaning there"
    from sklearn.base import is_classifier

    if is_classifier(estimator) and output != "decision":
        return ("for a classifier it gives decision-function values: pass output='decision' "
                "(probabilities need brute force)")
    if not is_classifier(estimator) and output not in ("auto", "predict"):
        return f"for a regressor it gives predictions, not output={output!r}"
    loss = getattr(estimator, "loss", None)
    if not is_classifier(estimator) and hasattr(estimator, "_baseline_prediction") and \
            loss not in ("squared_error", "absolute_error", "quantile"):
        return f"the regressor's loss={loss!r} predicts through a link function"
    if getattr(estimator, "_fitted_with_sw", False):
        return "the model was fitted with sample weights"
    if _recursion_offset(estimator) is None:
        return "the boosting has an init estimator (not a constant start)"
    return None


def _recursion(estimator: Any, grid: np.ndarray, cols: tuple[int, ...]) -> np.ndarray:
    """PD of the grid points by the trees' weighted traversal, (n_outputs, n_points)."""
    with warnings.catch_warnings():
        # scikit-learn warns for init="zero", a constant start the offset accounts for
        warnings.filterwarnings("ignore", message="Using recursion method with a non-constant")
        out = np.asarray(estimator._compute_partial_dependence_recursion(
            grid, np.asarray(cols, dtype=np.intp)), dtype=np.float64)
    out = out.reshape(-1, grid.shape[0])
    return out + _recursion_offset(estimator)[:, None]


# ----------------------------------------------------------------------------- brute force
class _GridRows:
    """Rows of every feature set and grid point, point-major: row ``off + p * m + i`` is row
    i of ``X`` with the set's columns at grid point p."""

    def __init__(self, values: np.ndarray, schema: TableSchema | None,
                 grids: list[np.ndarray], cols: list[tuple[int, ...]]) -> None:
        self.values, self.schema, self.grids, self.cols = values, schema, grids, cols
        self.m = values.shape[0]
        sizes = [g.shape[0] * self.m for g in grids]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.total = int(self.offsets[-1])

    def __call__(self, start: int, stop: int) -> Any:
        # row i of a set is (global - offset) % m, and every offset is a multiple of m
        chunk = cycled_rows(self.values, start, stop)
        for s, (grid, cols) in enumerate(zip(self.grids, self.cols, strict=True)):
            lo, hi = max(start, self.offsets[s]), min(stop, self.offsets[s + 1])
            if lo >= hi:
                continue
            points = (np.arange(lo, hi) - self.offsets[s]) // self.m
            chunk[lo - start:hi - start, list(cols)] = grid[points]
        return chunk if self.schema is None else self.schema.to_frame(chunk)


def _frame_schema(schema: TableSchema, sets: list[tuple[int, ...]],
                  categorical: np.ndarray) -> TableSchema:
    """The DataFrame's schema with the non-categorical grid columns as float64 (a grid
    value between two integers reaches the model as it is, not rounded)."""
    dtypes = list(schema.dtypes)
    for cols in sets:
        for j in cols:
            if not categorical[j] and dtypes[j].kind in "biu":
                dtypes[j] = np.dtype(np.float64)
    return TableSchema(columns=schema.columns, dtypes=dtypes)


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
    kind = _choice(kind, _KINDS, "kind")
    method = _choice(method, _METHODS, "method")
    if isinstance(grid_resolution, bool) or not isinstance(grid_resolution, (int, np.integer)) \
            or grid_resolution < 2:
        raise InputError(describe("grid_resolution", "an integer >= 2 (grid points per "
                                  "column)", grid_resolution))
    grid_resolution = int(grid_resolution)
    percentiles = _percentiles(percentiles)
    batch_size = check_batch_size(batch_size)
    callback = checked_callback(callback)
    if not isinstance(centered, (bool, np.bool_)):
        raise InputTypeError(describe("centered", "True or False", centered))

    values, schema = table_values(X, "X")
    if schema is None:
        try:
            values = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(describe("X", "a numeric array or DataFrame", values,
                                          "Encode categorical columns as numbers first."
                                          )) from exc
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise InputError(describe("X", "a non-empty 2-D array (n_samples, n_features)",
                                  got_text=f"shape {values.shape}"))
    n, d = values.shape
    names = schema.names if schema is not None else [f"x{j}" for j in range(d)]
    sets = _feature_sets(features, names)
    categorical = _categorical_mask(categorical_features, names)

    estimator = model
    _check_output(estimator, output)
    problem = _recursion_problem(estimator, output, kind, subsample)
    if method == "recursion" and problem is not None:
        raise InputError(describe("method", "a method that applies to this model and request",
                                  "recursion", f"The recursion does not apply: {problem}. "
                                  "Pass method='brute'."))
    used = "recursion" if method == "recursion" or (method == "auto" and problem is None) \
        else "brute"

    grids_1d = [[_grid(values[:, j], bool(categorical[j]), grid_resolution, percentiles,
                       names[j]) for j in cols] for cols in sets]
    grids = [_cartesian(g) for g in grids_1d]
    shapes = [tuple(v.shape[0] for v in g) for g in grids_1d]
    deciles = _deciles(values, sets)

    rng = check_random_state(random_state)
    sample_indices = None
    if used == "recursion":
        wrapped = None
        per_set = [_recursion(estimator, g, cols) for g, cols in zip(grids, sets, strict=True)]
        k = per_set[0].shape[0]
        output_names = _recursion_names(estimator, k)
        out_kind = "decision" if output == "decision" else "prediction"
        n_evals = 0
        m = None  # the recursion averages over the training data
    else:
        wrapped = as_model(estimator, output=output, chunk_size=batch_size)
        m = _row_count(subsample, n)
        if m < n:
            sample_indices = np.sort(rng.choice(n, size=m, replace=False))
            warnings.warn(f"partial_dependence: the curves use {m} of the {n} rows of X "
                          f"(subsample={subsample!r}); result.sample_indices says which.",
                          SubsamplingWarning, stacklevel=2)
        rows = values if sample_indices is None else values[sample_indices]
        build = _GridRows(rows, None if schema is None else _frame_schema(
            schema, sets, categorical), grids, sets)
        k, output_names = _outputs(wrapped, build)
        out_kind = wrapped.output
    chosen = _targets(target, k, output_names)
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
        average = None if average is None else [_center(a, 1) for a in average]
        individual = None if individual is None else [_center(c, 2) for c in individual]
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


def _center(curves: np.ndarray, lead: int) -> np.ndarray:
    """``curves`` minus their value at the first grid point (after ``lead`` axes)."""
    first = curves[(slice(None),) * lead + (0,) * (curves.ndim - lead)]
    return curves - first.reshape(first.shape + (1,) * (curves.ndim - lead))


def _check_output(estimator: Any, output: str) -> None:
    """A regressor asked for probabilities (or decision scores) is refused by name."""
    from sklearn.base import is_regressor

    if not isinstance(estimator, Model) and hasattr(estimator, "fit") and is_regressor(
            estimator) and output in ("probability", "decision"):
        raise InputError(describe(
            "output", "'auto' or 'predict' for a regressor", output,
            f"{type(estimator).__name__} is a regressor: it has no class "
            f"{'probabilities' if output == 'probability' else 'decision scores'}."))


def _recursion_names(estimator: Any, k: int) -> list[str] | None:
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        return None
    classes = [str(c) for c in classes]
    return classes if len(classes) == k else classes[-k:]


def _outputs(wrapped: Model, build: _GridRows) -> tuple[int, list[str] | None]:
    """The number of outputs and their names (from the model, or one row's output)."""
    names = wrapped.output_names
    if names is not None:
        return len(names), names
    return int(wrapped(build(0, 1), progress=False).shape[1]), None


def _targets(target: Any, k: int, names: list[str] | None) -> np.ndarray:
    if target is None or (isinstance(target, str) and target == "all"):
        return np.arange(k)
    return resolve_labels_argument(target, k, output_names=names, argument="target")


def _deciles(values: np.ndarray, sets: list[tuple[int, ...]]) -> dict[int, np.ndarray]:
    from scipy.stats.mstats import mquantiles

    columns = sorted({j for cols in sets for j in cols})
    return {j: np.asarray(mquantiles(values[:, j], prob=DECILES), dtype=np.float64)
            for j in columns}
