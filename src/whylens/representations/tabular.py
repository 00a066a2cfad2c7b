"""Tables as interpretable features: LIME's tabular sampler (discretisers in
:mod:`whylens.representations._discretize`, re-exported here).

Sampling is vectorised over samples and columns: bins and categories are drawn
for a whole (n_columns, n_samples) block of uniforms from padded cumulative
frequencies, and values inside bins come from tables of each bin's
truncated-normal quantile function, built once in :meth:`Discretizer.fit` (no
per-column scipy ``truncnorm`` calls, no Python loop per sample). With numba
installed one compiled kernel does the categorical part with the same
arithmetic (:mod:`whylens.representations._tabular_kernels`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from whylens._workspace import scratch
from whylens.errors import InputError, InputTypeError, describe
from whylens.representations._discretize import (
    BELOW_ONE,
    DISCRETIZERS,
    Discretizer,
    truncated_normal,
    truncated_normal_ppf,
)

__all__ = [
    "DISCRETIZERS",
    "Discretizer",
    "TabularSampler",
    "check_categorical_names",
    "check_category_codes",
    "truncated_normal",
    "truncated_normal_ppf",
]


def check_categorical_names(categorical_names: Any, n_features: int
                            ) -> dict[int, list[Any]]:
    """Check lime's ``categorical_names``: column index -> list of category names.

    Parameters
    ----------
    categorical_names : mapping of int to sequence, or None
        ``categorical_names[col][code]`` names category ``code`` of column ``col``.
    n_features : int

    Returns
    -------
    dict of int to list
        A copy (the caller's lists are never kept).

    Raises
    ------
    InputTypeError
        Not a mapping, a key that is not an int, names that are not a list or
        tuple (a str, a number).
    InputError
        A column index outside ``[0, n_features)``.
    """
    if categorical_names is None:
        return {}
    if not isinstance(categorical_names, Mapping):
        raise InputTypeError(describe(
            "categorical_names", "a dict of column index -> list of category names",
            categorical_names, "e.g. {1: ['no', 'yes']}."))
    out: dict[int, list[Any]] = {}
    for col, names in categorical_names.items():
        if isinstance(col, bool) or not isinstance(col, (int, np.integer)):
            raise InputTypeError(describe(
                "categorical_names", "int column indices as keys", got_text=f"key {col!r}"))
        if not 0 <= col < n_features:
            raise InputError(describe(
                "categorical_names", f"column indices in [0, {n_features}) as keys",
                got_text=f"key {col}"))
        if isinstance(names, (str, bytes)) or not isinstance(names, (Sequence, np.ndarray)):
            raise InputTypeError(describe(
                f"categorical_names[{col}]", "a list of category names (index = code)",
                names, f"e.g. {{{col}: ['no', 'yes']}}."))
        out[int(col)] = list(names)
    return out


def check_category_codes(row: np.ndarray, categorical_features: Sequence[int],
                         categorical_names: dict[int, list[Any]],
                         argument: str = "data_row") -> None:
    """Raise unless every named categorical column of ``row`` holds a code that
    has a name: an integer in ``[0, len(categorical_names[col]))``.

    Raises
    ------
    InputError
        Naming the column, its value and the names' range: a negative,
        fractional or too large code would be described with another
        category's name (or fail after the model was called).
    """
    for col in categorical_features:
        names = categorical_names.get(int(col))
        if names is None:
            continue
        value = float(row[col])
        if not (value.is_integer() and 0 <= value < len(names)):
            raise InputError(describe(
                f"{argument}[{col}]",
                f"a category code of column {col}: an integer in [0, {len(names)}) "
                "(categorical_names has no name for others)",
                got_text=repr(row[col].item() if hasattr(row[col], "item") else row[col]),
                fix=f"Encode the value as one of the codes, or add its name to "
                    f"categorical_names[{col}]."))


class CategoricalTables(NamedTuple):
    """Padded (k, width) tables of a sampler's k categorical (and binned)
    columns, as :func:`fill_categorical` and the compiled kernel take them.

    Attributes
    ----------
    cum : float64 (k, max(width, 17))
        Cumulative frequencies of each column's values, padded with 2.0 (above
        every uniform): counting the entries at or below ``u`` gives the drawn
        value's index for any number of compared entries from ``n_values - 1``
        up (the kernel compares 3, 7 or 16 for columns of up to 17 values).
    n_values : int64 (k,)
        Number of distinct values of each column.
    values : float64 (k, width)
        The values: category codes, or bin ids of binned columns.
    low, knot_scale : float64 (k, width)
        Lower end of each value's share of [0, 1), and the factor that turns a
        position inside that share into quantile-table knots.
    knot_base : int64 (k, width)
        Index, in ``quantiles``, of the first knot of each bin of a binned column.
    binned : bool (k,)
        Whether a column is a discretised continuous one (its value for the
        model then comes from the bin's quantile table).
    quantiles : float64 (n_binned * n_bins * (knots + 1),)
        The discretiser's quantile tables, flattened.
    top_knot : float
        Largest position in a bin's table (just below the number of intervals).
    """

    cum: np.ndarray
    n_values: np.ndarray
    values: np.ndarray
    low: np.ndarray
    knot_scale: np.ndarray
    knot_base: np.ndarray
    binned: np.ndarray
    quantiles: np.ndarray
    top_knot: float


#: Uniforms per block of columns in :func:`fill_categorical`: the block's
#: temporaries (160 KB each) stay in the CPU's L2 cache, which beats both one
#: block of all columns and one column at a time (benchmarks/lime_own_cost.py).
_BLOCK_UNIFORMS = 20_000


def fill_categorical(u: np.ndarray, tables: CategoricalTables, first: np.ndarray,
                     columns: np.ndarray, Zt: np.ndarray, inverse: np.ndarray) -> None:
    """Fill the categorical (and binned) columns of samples from uniforms.

    Column ``j`` draws, for every sample ``s``, the value whose share of [0, 1)
    holds ``u[j, s]`` (so each value comes with its training frequency); its
    interpretable feature is 1 where that is the instance's value. For a
    binned column, where ``u`` fell inside the bin's share is itself uniform
    and picks the model's value from the bin's quantile table (a truncated
    normal). Vectorised over blocks of columns and all their samples. The
    compiled kernel (``_tabular_kernels.fill_categorical``) does the same
    arithmetic in the same order, so both give the same samples bit for bit.

    Parameters
    ----------
    u : float64 (k, n)
        Uniforms in [0, 1), one per categorical column and sample.
    tables : CategoricalTables
    first : int64 (k,)
        The instance's value index in each column (-1 for a value never seen).
    columns : int64 (k,)
        Column of ``Zt`` and ``inverse`` each categorical column fills.
    Zt : float64 (d, n)
        Interpretable samples, one row per feature; rows ``columns`` written.
    inverse : float64 (n, d)
        Samples in input units; columns ``columns`` written.
    """
    k, n = u.shape
    block = max(1, _BLOCK_UNIFORMS // n)
    width = tables.values.shape[1]
    for start in range(0, k, block):
        stop = min(k, start + block)
        rows = np.arange(start, stop)
        uj = u[start:stop]
        last = tables.n_values[rows] - 1
        idx = np.zeros(uj.shape, dtype=np.int64)
        # Few values: count the cumulative frequencies at or below u (one pass
        # per entry over the block); many: a binary search, column by column.
        cum = tables.cum[rows]
        for m in range(int(last[last <= 16].max(initial=0))):
            idx += uj >= cum[:, m, None]
        for j in np.flatnonzero(last > 16):
            idx[j] = np.minimum(np.searchsorted(cum[j], uj[j], side="right"), last[j])
        Zt[columns[rows]] = idx == first[rows, None]
        idx += (rows * width)[:, None]  # now into the flattened (k, width) tables
        binned = tables.binned[rows]
        at = idx[binned]
        t = uj[binned] - tables.low.take(at)
        t *= tables.knot_scale.take(at)
        np.minimum(t, tables.top_knot, out=t)
        i = t.astype(np.int64)
        frac = t - i
        i += tables.knot_base.take(at)
        q0 = tables.quantiles.take(i)
        i += 1
        value = tables.quantiles.take(i)
        value -= q0
        value *= frac
        value += q0
        inverse[:, columns[rows[binned]]] = value.T
        plain = ~binned
        if plain.any():
            inverse[:, columns[rows[plain]]] = tables.values.take(idx[plain]).T


def _compiled_kernel() -> Any:
    """The numba kernel of :func:`fill_categorical`, or None without numba."""
    try:
        from whylens.representations._tabular_kernels import fill_categorical as kernel
    except ImportError:
        return None
    return kernel


class TabularSampler:
    """LIME's tabular perturbation, vectorised.

    Continuous columns are either discretised (then, like categorical columns,
    a sample draws a bin/category from its training frequency and the
    interpretable feature is 1 when it equals the instance's) or drawn from a
    normal with the training mean and std (around the mean, or around the
    instance with ``sample_around_instance``). Every table is built here, once.

    Parameters
    ----------
    training_data : ndarray of shape (n_rows, n_features)
    categorical_features : sequence of int
    feature_names : sequence of str
    discretizer : Discretizer, optional
        Fitted. The sampler keeps it as it is now (a shallow copy: a later
        :meth:`Discretizer.fit` of the object passed, which rebinds every
        fitted attribute, does not reach the sampler) and never changes it.
    """

    def __init__(self, training_data: np.ndarray, categorical_features: Sequence[int],
                 feature_names: Sequence[str], discretizer: Discretizer | None) -> None:
        X = training_data
        d = X.shape[1]
        self.n_features = d
        self.discretizer = None if discretizer is None else copy.copy(discretizer)
        discretizer = self.discretizer
        self.categorical = np.zeros(d, dtype=bool)
        self.categorical[list(categorical_features)] = True
        if discretizer is not None:
            self.categorical[discretizer.columns] = True
        # StandardScaler(with_mean=False) statistics, as lime.
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale = np.where(std == 0, 1.0, std)
        self.mean[self.categorical] = 0.0
        self.scale[self.categorical] = 1.0
        self.cont_columns = np.flatnonzero(~self.categorical)
        # Category (or bin) values and cumulative frequencies.
        self._disc_pos = np.full(d, -1, dtype=np.int64)
        if discretizer is not None:
            self._disc_pos[discretizer.columns] = np.arange(discretizer.columns.size)
            binned = discretizer.discretize(X)
        self.cat_columns = np.flatnonzero(self.categorical)
        self.feature_values: list[np.ndarray] = []
        cum_list = []
        for col in self.cat_columns:
            column = binned[:, self._disc_pos[col]] if self._disc_pos[col] >= 0 else X[:, col]
            values, counts = np.unique(column, return_counts=True)
            self.feature_values.append(values.astype(np.float64))
            cum_list.append(np.cumsum(counts) / counts.sum())
        self.tables = self._build_tables(cum_list)
        # For binned columns: bin id -> index in the column's value list.
        width = 1 + max((e.size for e in discretizer.edges), default=0) \
            if discretizer is not None else 1
        self._bin_lookup = np.full((self.cat_columns.size, width), -1, dtype=np.int64)
        for j, col in enumerate(self.cat_columns):
            if self._disc_pos[col] >= 0:
                self._bin_lookup[j, self.feature_values[j].astype(np.int64)] = \
                    np.arange(self.feature_values[j].size)
        self._kernel = _compiled_kernel()

    def _build_tables(self, cum_list: list[np.ndarray]) -> CategoricalTables:
        k = self.cat_columns.size
        width = max((c.size for c in cum_list), default=1)
        cum = np.full((k, max(width, 17)), 2.0)
        values, low, scale = np.zeros((k, width)), np.zeros((k, width)), np.zeros((k, width))
        disc_pos = self._disc_pos[self.cat_columns]
        knots = 0 if self.discretizer is None else self.discretizer.QUANTILE_KNOTS
        for j, c in enumerate(cum_list):
            m = c.size
            cum[j, :m] = c
            values[j, :m] = self.feature_values[j]
            low[j, 1:m] = c[:-1]
            # Where u falls inside its value's share of [0, 1), in knots:
            # t = (u - low) * knots / share (see Discretizer.undiscretize_uniform).
            scale[j, :m] = knots / np.diff(c, prepend=0.0)
        if self.discretizer is None:
            quantiles = np.zeros(2)
            row_length = 0
        else:
            quantiles = self.discretizer._quantiles.reshape(-1)
            row_length = self.discretizer._quantiles.shape[1]
        binned = disc_pos >= 0
        knot_base = np.where(binned[:, None], values.astype(np.int64) * (knots + 1)
                             + (disc_pos * row_length)[:, None], 0)
        return CategoricalTables(
            cum=cum, n_values=np.array([c.size for c in cum_list], dtype=np.int64),
            values=values, low=low, knot_scale=scale, knot_base=knot_base, binned=binned,
            quantiles=quantiles, top_knot=knots * BELOW_ONE)

    def sample(self, row: np.ndarray, num_samples: int, rng: np.random.Generator,
               sample_around_instance: bool = False, out: np.ndarray | None = None,
               rows_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Perturb ``row``.

        The normals of the continuous columns are drawn first, then one
        uniform per categorical column and sample (``rng.random``), so the
        same generator state gives the same samples, with or without numba.

        Parameters
        ----------
        row : ndarray of shape (n_features,)
        num_samples : int
        rng : numpy.random.Generator
        sample_around_instance : bool, default=False
        out : ndarray of shape (n_features, num_samples), optional
            C-contiguous float64 array to write ``Z.T`` into (``Z`` is then
            ``out.T``).
        rows_out : ndarray of shape (num_samples, n_features), optional
            C-contiguous float64 array to write ``inverse`` into.

        Returns
        -------
        Z : ndarray of shape (num_samples, n_features)
            Interpretable samples: scaled values for continuous columns, 1/0
            (same category or bin as the instance) for the others. Row 0 is
            the instance. Column-major (a transposed view of ``out`` when
            given): every column is built as one contiguous vector.
        inverse : ndarray of shape (num_samples, n_features)
            The samples in input units, for the model. Row 0 is ``row``.
        """
        n = num_samples
        Zt = np.empty((self.n_features, n)) if out is None else out
        inverse = np.empty((n, self.n_features)) if rows_out is None else rows_out
        cont = self.cont_columns
        if cont.size:
            center = (row if sample_around_instance else self.mean)[cont]
            with scratch((cont.size, n), slot="tabular.normals") as values:
                rng.standard_normal(out=values)
                values *= self.scale[cont, None]
                values += center[:, None]
                inverse[:, cont] = values.T
                values -= self.mean[cont, None]
                values /= self.scale[cont, None]
                Zt[cont] = values
        cats = self.cat_columns
        if cats.size:
            fill = fill_categorical if self._kernel is None else self._kernel
            with scratch((cats.size, n), slot="tabular.uniforms") as u:
                rng.random(out=u)
                fill(u, self.tables, self._first_positions(row), cats, Zt, inverse)
        Z = Zt.T
        Z[0] = 1.0
        Z[0, cont] = (row[cont] - self.mean[cont]) / self.scale[cont]
        inverse[0] = row
        return Z, inverse

    def _first_positions(self, row: np.ndarray) -> np.ndarray:
        """Index of the instance's category (or bin) in each categorical column's
        value list; -1 for a category never seen in training."""
        cats = self.cat_columns
        pos = np.full(cats.size, -1, dtype=np.int64)
        binned = self.tables.binned
        if binned.any():
            bins = self.discretizer.discretize(row)[self._disc_pos[cats[binned]]]
            pos[binned] = self._bin_lookup[np.flatnonzero(binned), bins]
        for j in np.flatnonzero(~binned):
            hit = np.flatnonzero(self.feature_values[j] == row[cats[j]])
            if hit.size:
                pos[j] = hit[0]
        return pos

    def describe_row(self, row: np.ndarray, feature_names: Sequence[str],
                     categorical_names: dict[int, Sequence[Any]]) -> list[str]:
        """Readable form of each feature at ``row``, as lime's explanation shows it.

        Returns
        -------
        list of str, length n_features
            ``"name <= 1.00"``-style bins for discretised columns,
            ``"name=value"`` for categorical ones, the name otherwise.
        """
        out = list(feature_names)
        disc_cols = set() if self.discretizer is None else set(self.discretizer.columns.tolist())
        bins = None if self.discretizer is None else self.discretizer.discretize(row)
        for col in range(self.n_features):
            if col in disc_cols:
                out[col] = self.discretizer.names[col][int(bins[self._disc_pos[col]])]
            elif self.categorical[col]:
                value: Any = row[col]
                names = categorical_names.get(col)
                if names is not None:
                    value = names[int(value)]
                elif float(value).is_integer():
                    value = int(value)
                out[col] = f"{feature_names[col]}={value}"
        return out
