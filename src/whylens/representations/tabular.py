"""Tables as interpretable features: discretisers and LIME's tabular sampler.

Everything here is vectorised over samples *and* columns: bins are drawn for a
whole (n_samples, n_features) block from padded cumulative frequencies, and
values inside bins come from one truncated-normal draw computed in log space
(no per-column scipy ``truncnorm`` calls, no Python loop per sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import log_ndtr, ndtri_exp

from whylens._workspace import scratch
from whylens.errors import InputError, describe

#: The largest float below one.
_BELOW_ONE = float(np.nextafter(1.0, 0.0))

__all__ = [
    "DISCRETIZERS",
    "Discretizer",
    "TabularSampler",
    "truncated_normal",
    "truncated_normal_ppf",
]

DISCRETIZERS = ("quartile", "decile", "entropy")


def truncated_normal_ppf(
    low: np.ndarray, high: np.ndarray, mean: np.ndarray, std: np.ndarray, q: np.ndarray,
) -> np.ndarray:
    """Quantile function of normals truncated to ``[low, high]``, elementwise.

    Inverse CDF in log space on the left tail (intervals on the right are
    mirrored), so intervals far in a tail are accurate.

    Parameters
    ----------
    low, high, mean, std : ndarray of the same shape
        Bounds in data units, and the untruncated normal's mean and std (> 0).
    q : ndarray of the same shape
        Probabilities in ``[0, 1]``.

    Returns
    -------
    ndarray of the same shape, non-decreasing in ``q``, inside ``[low, high]``.
    """
    a = (low - mean) / std
    b = (high - mean) / std
    flip = a > 0
    lo = np.where(flip, -b, a)
    hi = np.where(flip, -a, b)
    u = np.where(flip, 1.0 - q, q)
    log_lo = log_ndtr(lo)
    log_hi = log_ndtr(hi)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_p = log_hi + np.log(u + (1.0 - u) * np.exp(log_lo - log_hi))
        z = ndtri_exp(np.minimum(log_p, 0.0))
    z = np.where(flip, -z, z)
    z = np.where(np.isfinite(z), z, np.clip(0.0, a, b))
    return np.clip(mean + std * z, low, high)


def truncated_normal(
    low: np.ndarray, high: np.ndarray, mean: np.ndarray, std: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw from normals truncated to ``[low, high]``, elementwise, by
    :func:`truncated_normal_ppf` of uniform draws.

    Parameters
    ----------
    low, high, mean, std : ndarray of the same shape
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of the same shape, inside ``[low, high]``.
    """
    return truncated_normal_ppf(low, high, mean, std, rng.random(np.shape(low)))


class Discretizer:
    """Bins continuous columns at quantiles or entropy splits, as lime does.

    Parameters
    ----------
    kind : {"quartile", "decile", "entropy"}, default="quartile"
        Bin edges at the 25/50/75th percentiles, at every 10th percentile, or
        at the split points of a depth-3 entropy decision tree on the
        training labels.
    random_state : int, optional
        Seed of the entropy tree.

    Attributes (after :meth:`fit`)
    ------------------------------
    columns : ndarray of int
        Discretised columns.
    edges : list of ndarray
        Sorted unique bin edges of each discretised column.
    names : dict of int to list of str
        Readable name of every bin of each column, e.g. ``"age <= 30.00"``.
    """

    def __init__(self, kind: str = "quartile", random_state: int | None = None) -> None:
        if kind not in DISCRETIZERS:
            raise InputError(describe("discretizer", f"one of {DISCRETIZERS}", kind))
        self.kind = kind
        self.random_state = random_state

    def _edges(self, column: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        if self.kind == "quartile":
            return np.percentile(column, [25, 50, 75])
        if self.kind == "decile":
            return np.percentile(column, np.arange(10, 100, 10))
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier(criterion="entropy", max_depth=3,
                                      random_state=self.random_state)
        tree.fit(column.reshape(-1, 1), labels)
        edges = tree.tree_.threshold[tree.tree_.children_left > -1]
        return np.sort(edges) if edges.size else np.array([np.median(column)])

    def fit(self, X: np.ndarray, columns: Sequence[int], feature_names: Sequence[str],
            labels: np.ndarray | None = None) -> Discretizer:
        """Learn bin edges and per-bin statistics of ``columns`` of ``X``.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        columns : sequence of int
            Columns to discretise.
        feature_names : sequence of str, length n_features
        labels : ndarray of shape (n_rows,), optional
            Training labels; required for ``kind="entropy"``.

        Returns
        -------
        self

        Raises
        ------
        InputError
            ``kind="entropy"`` without labels, or labels of the wrong length.
        """
        if self.kind == "entropy":
            if labels is None:
                raise InputError(
                    describe("training_labels", "the training labels for discretizer='entropy'",
                             None, "Pass training_labels=y, or use 'quartile' or 'decile'.")
                )
            labels = np.asarray(labels)
            if labels.shape[0] != X.shape[0]:
                raise InputError(describe("training_labels", f"{X.shape[0]} labels", labels))
        self.columns = np.asarray(list(columns), dtype=np.int64)
        self.edges: list[np.ndarray] = []
        self.names: dict[int, list[str]] = {}
        n_bins = []
        for col in self.columns:
            edges = np.unique(self._edges(X[:, col], labels))
            self.edges.append(edges)
            n_bins.append(edges.size + 1)
            name = feature_names[col]
            labels_ = [f"{name} <= {edges[0]:.2f}"]
            labels_ += [f"{edges[i]:.2f} < {name} <= {edges[i + 1]:.2f}"
                        for i in range(edges.size - 1)]
            labels_.append(f"{name} > {edges[-1]:.2f}")
            self.names[int(col)] = labels_
        # Per-bin statistics in padded (n_columns, max_bins) arrays.
        width = max(n_bins, default=1)
        k = self.columns.size
        self._mean = np.zeros((k, width))
        self._std = np.ones((k, width))
        self._min = np.zeros((k, width))
        self._max = np.zeros((k, width))
        for j, col in enumerate(self.columns):
            values = X[:, col]
            bins = np.searchsorted(self.edges[j], values)
            counts = np.bincount(bins, minlength=n_bins[j]).astype(np.float64)
            sums = np.bincount(bins, weights=values, minlength=n_bins[j])
            mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
            sq = np.bincount(bins, weights=(values - mean[bins]) ** 2, minlength=n_bins[j])
            std = np.sqrt(np.divide(sq, counts, out=np.zeros_like(sq), where=counts > 0))
            self._mean[j, : n_bins[j]] = mean
            self._std[j, : n_bins[j]] = std + 1e-11
            self._min[j, : n_bins[j]] = np.concatenate([[values.min()], self.edges[j]])
            self._max[j, : n_bins[j]] = np.concatenate([self.edges[j], [values.max()]])
        self._build_quantile_tables()
        return self

    #: Intervals of the piecewise-linear quantile function of each bin.
    QUANTILE_KNOTS = 512

    def _build_quantile_tables(self) -> None:
        """Tabulate every bin's truncated-normal quantile function at
        ``QUANTILE_KNOTS + 1`` probabilities, so that sampling is a table
        lookup and a linear interpolation (see :meth:`undiscretize_uniform`).
        A bin's lowest knot is nudged just above its lower edge: values on an
        edge belong to the bin below it."""
        k, width = self._mean.shape
        q = np.linspace(0.0, 1.0, self.QUANTILE_KNOTS + 1)
        shape = (k, width, q.size)
        table = truncated_normal_ppf(
            np.broadcast_to(self._min[:, :, None], shape),
            np.broadcast_to(self._max[:, :, None], shape),
            np.broadcast_to(self._mean[:, :, None], shape),
            np.broadcast_to(self._std[:, :, None], shape),
            np.broadcast_to(q, shape),
        )
        inner = np.nextafter(self._min[:, 1:], np.inf)
        table[:, 1:, 0] = np.minimum(inner, self._max[:, 1:])
        self._quantiles = np.ascontiguousarray(table.reshape(k, -1))

    def undiscretize_uniform(self, position: int, bins: np.ndarray, v: np.ndarray
                             ) -> np.ndarray:
        """Values of discretised column number ``position`` at quantiles ``v``
        of their bins' truncated normals (the bin's training mean and std, cut
        at the bin's edges), by linear interpolation in a table of
        ``QUANTILE_KNOTS + 1`` quantiles per bin.

        Parameters
        ----------
        position : int
            Index into :attr:`columns`.
        bins : ndarray of int, shape (n,)
        v : ndarray of float, shape (n,)
            Probabilities in ``[0, 1)``; uniform draws give truncated-normal draws.

        Returns
        -------
        ndarray of shape (n,), inside each draw's bin.
        """
        knots = self.QUANTILE_KNOTS
        return self.undiscretize_knots(position, bins,
                                       np.minimum(v * knots, knots * _BELOW_ONE))

    def undiscretize_knots(self, position: int, bins: np.ndarray, t: np.ndarray
                           ) -> np.ndarray:
        """:meth:`undiscretize_uniform` at ``t = v * QUANTILE_KNOTS`` (in
        ``[0, QUANTILE_KNOTS)``): the knot interval is ``int(t)``, the
        interpolation weight ``t - int(t)``.

        Returns
        -------
        ndarray of shape (n,)
        """
        knots = self.QUANTILE_KNOTS
        i = t.astype(np.int64)
        frac = t - i
        i += bins * (knots + 1)
        row = self._quantiles[position]
        q0 = row.take(i)
        return q0 + frac * (row.take(i + 1) - q0)

    def discretize(self, X: np.ndarray) -> np.ndarray:
        """Return the bin index of every discretised column.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features) or (n_features,)

        Returns
        -------
        ndarray of int64 of shape (n_rows, n_columns) or (n_columns,)
        """
        X = np.asarray(X, dtype=np.float64)
        one = X.ndim == 1
        if one:  # one row: count the edges below each value, all columns at once
            table = getattr(self, "_edge_table", None)
            if table is None:
                table = np.full((self.columns.size, max(e.size for e in self.edges)), np.inf)
                for j, e in enumerate(self.edges):
                    table[j, :e.size] = e
                self._edge_table = table
            return (X[self.columns, None] > table).sum(axis=1)
        X2 = X
        out = np.empty((X2.shape[0], self.columns.size), dtype=np.int64)
        for j, col in enumerate(self.columns):
            out[:, j] = np.searchsorted(self.edges[j], X2[:, col])
        return out

    def undiscretize_column(self, position: int, bins: np.ndarray,
                            rng: np.random.Generator) -> np.ndarray:
        """Draw values of discretised column number ``position`` inside ``bins``
        (truncated normals of the bins' training data; see
        :meth:`undiscretize_uniform`).

        Parameters
        ----------
        position : int
            Index into :attr:`columns`.
        bins : ndarray of int, shape (n,)
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n,)
        """
        return self.undiscretize_uniform(position, bins, rng.random(bins.shape[0]))

    def undiscretize(self, bins: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw values inside the given bins, for every discretised column.

        Parameters
        ----------
        bins : ndarray of int, shape (n_rows, n_columns)
        rng : numpy.random.Generator

        Returns
        -------
        ndarray of shape (n_rows, n_columns)
        """
        return np.column_stack([self.undiscretize_column(j, bins[:, j], rng)
                                for j in range(self.columns.size)])


#: Bit generators whose raw draws are 64 random bits (MT19937's are 32).
_RAW_64 = ("PCG64", "PCG64DXSM", "Philox", "SFC64")


def _raw_words(rng: np.random.Generator, n_uniforms: int) -> np.ndarray:
    """Random 64-bit words for ``n_uniforms`` 32-bit halves (two per word).

    The bit generator's raw draws when they are 64 bits wide (numpy's default
    PCG64, PCG64DXSM, Philox, SFC64: one call per word, the cheapest source),
    otherwise ``rng.integers`` over the whole uint64 range (MT19937's raw draws
    have only 32 random bits). A 32-bit half that the generator holds back from
    an earlier odd number of 32-bit draws is left for its next such draw.

    Returns
    -------
    ndarray of uint64, shape (ceil(n_uniforms / 2),)
    """
    n = (n_uniforms + 1) // 2
    if type(rng.bit_generator).__name__ in _RAW_64:
        return rng.bit_generator.random_raw(n)
    return rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)


def _uniforms_from_bits(bits: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` uniforms in [0, 1) of raw 64-bit draws, two per draw.

    Each 32-bit half, low half first, gives ``(half >> 8) * 2**-24``: what
    numpy's ``Generator.random(dtype=np.float32)`` makes of the same bits, in
    float64. Raw draws cost about 60 % of numpy's float32 draws (one call
    into the bit generator per two uniforms instead of one per uniform).

    Parameters
    ----------
    bits : ndarray of uint64, shape (ceil(n / 2),)
    n : int

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    halves = np.empty(2 * bits.size, dtype=np.uint64)
    np.bitwise_and(bits, np.uint64(0xFFFFFFFF), out=halves[0::2])
    np.right_shift(bits, np.uint64(32), out=halves[1::2])
    halves >>= np.uint64(8)
    return halves[:n].astype(np.float64) * 2.0**-24


def _compiled_kernel() -> Any:
    """The numba kernel of the categorical draws, or None without numba."""
    try:
        from whylens.representations._tabular_kernels import draw_categorical
    except ImportError:
        return None
    return draw_categorical


class TabularSampler:
    """LIME's tabular perturbation, vectorised.

    Continuous columns are either discretised (then, like categorical columns,
    a sample draws a bin/category from its training frequency and the
    interpretable feature is 1 when it equals the instance's) or drawn from a
    normal with the training mean and std (around the mean, or around the
    instance with ``sample_around_instance``).

    Parameters
    ----------
    training_data : ndarray of shape (n_rows, n_features)
    categorical_features : sequence of int
    feature_names : sequence of str
    discretizer : Discretizer, optional
    """

    def __init__(self, training_data: np.ndarray, categorical_features: Sequence[int],
                 feature_names: Sequence[str], discretizer: Discretizer | None) -> None:
        X = training_data
        d = X.shape[1]
        self.n_features = d
        self.discretizer = discretizer
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
        # Category (or bin) values and cumulative frequencies, padded.
        self._disc_pos = np.full(d, -1, dtype=np.int64)
        if discretizer is not None:
            self._disc_pos[discretizer.columns] = np.arange(discretizer.columns.size)
            binned = discretizer.discretize(X)
        self.cat_columns = np.flatnonzero(self.categorical)
        values_list, cum_list = [], []
        for col in self.cat_columns:
            column = binned[:, self._disc_pos[col]] if self._disc_pos[col] >= 0 else X[:, col]
            values, counts = np.unique(column, return_counts=True)
            values_list.append(values.astype(np.float64))
            cum_list.append(np.cumsum(counts) / counts.sum())
        self._cum_list = cum_list
        self._cum_low = [np.concatenate([[0.0], cum[:-1]]) for cum in cum_list]
        self._share = [np.diff(cum, prepend=0.0) for cum in cum_list]
        # Where u falls inside its category's share of [0, 1), in quantile-table
        # knots: t = (u - low) * knot_scale (see Discretizer.undiscretize_knots).
        knots = 0 if discretizer is None else discretizer.QUANTILE_KNOTS
        self._knot_scale = [knots / share for share in self._share]
        self._top_knot = knots * _BELOW_ONE
        self.feature_values = values_list
        self._kernel = _compiled_kernel()

    def _kernel_tables(self) -> tuple[np.ndarray, ...]:
        """Padded (k, width) tables of the categorical columns for the compiled
        kernel; built on first use."""
        tables = getattr(self, "_tables", None)
        if tables is None:
            k = self.cat_columns.size
            width = max((c.size for c in self._cum_list), default=1)
            # At least 17 wide: the kernel compares u with 3, 7 or 16 entries of
            # the padding (2.0, above every u) when a column has few categories.
            cum = np.full((k, max(width, 17)), 2.0)
            values, low, scale = np.zeros((k, width)), np.zeros((k, width)), np.zeros((k, width))
            for j in range(k):
                m = self._cum_list[j].size
                cum[j, :m] = self._cum_list[j]
                values[j, :m] = self.feature_values[j]
                low[j, :m] = self._cum_low[j]
                scale[j, :m] = self._knot_scale[j]
            n_values = np.array([c.size for c in self._cum_list], dtype=np.int64)
            disc_pos = self._disc_pos[self.cat_columns].copy()
            quantiles = (np.zeros((1, 2)) if self.discretizer is None
                         else self.discretizer._quantiles)
            knots = 0 if self.discretizer is None else self.discretizer.QUANTILE_KNOTS
            # First knot of each bin's row in the quantile table (binned columns).
            knot_base = np.where(disc_pos[:, None] >= 0, values, 0).astype(np.int64) \
                * (knots + 1)
            tables = (cum, values, n_values, low, scale, knot_base, disc_pos, quantiles)
            self._tables = tables
        return tables

    def sample(self, row: np.ndarray, num_samples: int, rng: np.random.Generator,
               sample_around_instance: bool = False, out: np.ndarray | None = None,
               rows_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Perturb ``row``.

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
        if self._kernel is not None:
            return self._sample_compiled(row, num_samples, rng, sample_around_instance, out,
                                         rows_out)
        d = self.n_features
        # Column-major work arrays: every step below is a contiguous vector op.
        Zt = np.empty((d, num_samples)) if out is None else out
        inv_t = np.empty((d, num_samples))
        cont = np.flatnonzero(~self.categorical)
        if cont.size:
            center = (row if sample_around_instance else self.mean)[cont]
            inv_t[cont] = (rng.standard_normal((cont.size, num_samples))
                           * self.scale[cont, None] + center[:, None])
            Zt[cont] = (inv_t[cont] - self.mean[cont, None]) / self.scale[cont, None]
        cats = self.cat_columns
        if cats.size:
            first = self._first_positions(row)
            # 24-bit uniforms (they resolve the bins and the position inside them
            # far below sampling noise), two per raw 64-bit draw.
            n_uniforms = cats.size * num_samples
            u = _uniforms_from_bits(_raw_words(rng, n_uniforms), n_uniforms)
            u = u.reshape(cats.size, num_samples)
            for j, col in enumerate(cats):
                idx = self._draw_index(j, u[j])
                Zt[col] = idx == first[j]
                values = self.feature_values[j].take(idx)  # category codes, or bin ids
                pos = self._disc_pos[col]
                if pos >= 0:
                    # Given its bin, where u fell inside the bin's share of [0, 1) is
                    # itself uniform: it picks the value inside the bin.
                    low, scale = self._cum_low[j].take(idx), self._knot_scale[j].take(idx)
                    t = np.minimum((u[j] - low) * scale, self._top_knot)
                    values = self.discretizer.undiscretize_knots(
                        int(pos), values.astype(np.int64), t)
                inv_t[col] = values
        Z = Zt.T
        if rows_out is None:
            inverse = np.ascontiguousarray(inv_t.T)
        else:
            inverse = rows_out
            inverse[...] = inv_t.T
        Z[0] = 1.0
        Z[0, cont] = (row[cont] - self.mean[cont]) / self.scale[cont]
        inverse[0] = row
        return Z, inverse

    def _sample_compiled(self, row: np.ndarray, num_samples: int, rng: np.random.Generator,
                         sample_around_instance: bool, out: np.ndarray | None = None,
                         rows_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`sample` with the categorical loop compiled: the same random
        draws in the same order and the same arithmetic, so the same samples."""
        d = self.n_features
        Zt = np.empty((d, num_samples)) if out is None else out
        inverse = np.empty((num_samples, d)) if rows_out is None else rows_out
        cont = np.flatnonzero(~self.categorical)
        # The random draws go to scratch arrays (see whylens._workspace), and
        # the arithmetic runs in place in the order of the numpy path.
        if cont.size:
            center = (row if sample_around_instance else self.mean)[cont]
            with scratch((cont.size, num_samples), slot="tabular.normals") as values:
                rng.standard_normal(out=values)
                values *= self.scale[cont, None]
                values += center[:, None]
                inverse[:, cont] = values.T
                values -= self.mean[cont, None]
                values /= self.scale[cont, None]
                Zt[cont] = values
        cats = self.cat_columns
        if cats.size:
            first = self._first_positions(row)
            bits = _raw_words(rng, cats.size * num_samples)
            with scratch((num_samples,), np.int64, slot="tabular.index") as idx, \
                    scratch((num_samples,), slot="tabular.uniforms") as u:
                self._kernel(bits, *self._kernel_tables(), self._top_knot, first, cats, Zt,
                             inverse, idx, u)
        Z = Zt.T
        Z[0] = 1.0
        Z[0, cont] = (row[cont] - self.mean[cont]) / self.scale[cont]
        inverse[0] = row
        return Z, inverse

    def _draw_index(self, j: int, u: np.ndarray) -> np.ndarray:
        """Category index for uniforms ``u`` from column ``j``'s frequencies."""
        cum = self._cum_list[j]
        if cum.size <= 16:  # a few comparisons beat a binary search
            idx = np.zeros(u.shape[0], dtype=np.int64)
            for c in cum[:-1]:
                idx += u >= c
            return idx
        return np.minimum(np.searchsorted(cum, u, side="right"), cum.size - 1)

    def _first_positions(self, row: np.ndarray) -> np.ndarray:
        """Index of the instance's category (or bin) in each categorical column's
        value list; -1 for a category never seen in training."""
        cats = self.cat_columns
        pos = np.full(cats.size, -1, dtype=np.int64)
        lookup = getattr(self, "_bin_lookup", None)
        if lookup is None:
            # For binned columns: bin id -> index in the column's value list.
            width = 1 + max((e.size for e in self.discretizer.edges), default=0) \
                if self.discretizer is not None else 1
            lookup = np.full((cats.size, width), -1, dtype=np.int64)
            for j, col in enumerate(cats):
                if self._disc_pos[col] >= 0:
                    lookup[j, self.feature_values[j].astype(np.int64)] = \
                        np.arange(self.feature_values[j].size)
            self._bin_lookup = lookup
        binned = self._disc_pos[cats] >= 0
        if binned.any():
            bins = self.discretizer.discretize(row)[self._disc_pos[cats[binned]]]
            pos[binned] = lookup[np.flatnonzero(binned), bins]
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
