"""Discretisers of continuous columns, as lime's, with tabulated truncated normals.

:class:`Discretizer` bins continuous columns at quartiles, deciles or entropy
splits, and tabulates each bin's truncated-normal quantile function once in
:meth:`Discretizer.fit`, so that drawing a value inside a bin is a table lookup
(see :class:`whylens.representations.tabular.TabularSampler`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import log_ndtr, ndtri_exp

from whylens.errors import InputError, describe

#: The largest float below one.
BELOW_ONE = float(np.nextafter(1.0, 0.0))

__all__ = [
    "BELOW_ONE",
    "DISCRETIZERS",
    "Discretizer",
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
        # Every edge of each column, padded with +inf: one row's bins by counting.
        self._edge_table = np.full((k, max((e.size for e in self.edges), default=0)), np.inf)
        for j, e in enumerate(self.edges):
            self._edge_table[j, :e.size] = e
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
        t = np.minimum(v * knots, knots * BELOW_ONE)  # knot interval int(t), weight the rest
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
            return (X[self.columns, None] > self._edge_table).sum(axis=1)
        out = np.empty((X.shape[0], self.columns.size), dtype=np.int64)
        for j, col in enumerate(self.columns):
            out[:, j] = np.searchsorted(self.edges[j], X[:, col])
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
