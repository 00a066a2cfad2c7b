"""Discretisers and the tabular sampler: lime's bins, exact truncated normals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from whylens.errors import InputError
from whylens.representations.tabular import (
    Discretizer,
    TabularSampler,
    truncated_normal,
    truncated_normal_ppf,
)


def test_quartile_bins_and_names_match_lime(breast_cancer):
    lime_discretize = pytest.importorskip("lime.discretize")
    X, y, names, _ = breast_cancer
    ours = Discretizer("quartile").fit(X, range(X.shape[1]), names)
    theirs = lime_discretize.QuartileDiscretizer(X, [], names, labels=y, random_state=0)
    for col in range(X.shape[1]):
        assert ours.names[col] == theirs.names[col]
    np.testing.assert_array_equal(ours.discretize(X), theirs.discretize(X).astype(int))


@pytest.mark.parametrize("kind", ["decile", "entropy"])
def test_other_discretizers_match_lime(breast_cancer, kind):
    lime_discretize = pytest.importorskip("lime.discretize")
    X, y, names, _ = breast_cancer
    ours = Discretizer(kind, random_state=0).fit(X, range(X.shape[1]), names, labels=y)
    cls = {"decile": lime_discretize.DecileDiscretizer,
           "entropy": lime_discretize.EntropyDiscretizer}[kind]
    theirs = cls(X, [], names, labels=y, random_state=0)
    np.testing.assert_array_equal(ours.discretize(X), theirs.discretize(X).astype(int))


def test_entropy_needs_labels():
    with pytest.raises(InputError, match="training_labels"):
        Discretizer("entropy").fit(np.zeros((5, 1)), [0], ["a"])


def test_truncated_normal_is_exact_in_the_tails():
    rng = np.random.default_rng(0)
    n = 200_000
    for low, high in [(-1.0, 2.0), (3.0, 5.0), (-12.0, -9.0), (7.0, 7.0)]:
        draws = truncated_normal(np.full(n, low), np.full(n, high), np.zeros(n), np.ones(n), rng)
        assert draws.min() >= low and draws.max() <= high
        if high > low:
            ref = stats.truncnorm(low, high)
            assert draws.mean() == pytest.approx(ref.mean(), abs=4 * ref.std() / np.sqrt(n))
            assert stats.kstest(draws[:5000], ref.cdf).pvalue > 1e-3


def test_undiscretize_stays_in_bins_and_follows_bin_statistics(breast_cancer):
    X, _, names, _ = breast_cancer
    disc = Discretizer("quartile").fit(X, range(X.shape[1]), names)
    rng = np.random.default_rng(1)
    bins = rng.integers(0, 4, size=(20000, X.shape[1]))
    values = disc.undiscretize(bins, rng)
    np.testing.assert_array_equal(disc.discretize(values), bins)


def test_sampler_marks_same_bin_as_one_and_keeps_the_instance(breast_cancer):
    X, _, names, _ = breast_cancer
    disc = Discretizer("quartile").fit(X, range(X.shape[1]), names)
    sampler = TabularSampler(X, [], names, disc)
    rng = np.random.default_rng(2)
    Z, inverse = sampler.sample(X[5], 4000, rng)
    np.testing.assert_array_equal(inverse[0], X[5])
    assert (Z[0] == 1).all()
    same = disc.discretize(inverse) == disc.discretize(X[5])[None, :]
    np.testing.assert_array_equal(Z[1:], same[1:].astype(float))
    # each bin is drawn with its training frequency (about 1/4 for quartiles)
    assert Z[1:].mean() == pytest.approx(0.25, abs=0.02)


def test_sampler_without_discretizer_uses_training_mean_and_std():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(5.0, 2.0, 5000), rng.integers(0, 3, 5000)])
    sampler = TabularSampler(X, [1], ["x", "c"], None)
    Z, inverse = sampler.sample(np.array([100.0, 1.0]), 20000, np.random.default_rng(4))
    assert inverse[1:, 0].mean() == pytest.approx(5.0, abs=0.1)
    assert inverse[1:, 0].std() == pytest.approx(2.0, abs=0.1)
    np.testing.assert_allclose(Z[:, 0], (inverse[:, 0] - X[:, 0].mean()) / X[:, 0].std())
    np.testing.assert_array_equal(Z[1:, 1], inverse[1:, 1] == 1.0)
    around, _ = sampler.sample(np.array([100.0, 1.0]), 20000, np.random.default_rng(4), True)
    assert around[1:, 0].mean() == pytest.approx((100.0 - X[:, 0].mean()) / X[:, 0].std(),
                                                 abs=0.05)


def test_bin_draws_follow_the_truncated_normal_of_the_bin(breast_cancer):
    """Table-interpolated draws match scipy's truncnorm of each bin (KS test), stay
    inside the bin, and the quantile function is non-decreasing."""
    from scipy import stats

    X, _, names, _ = breast_cancer
    disc = Discretizer("quartile").fit(X, range(X.shape[1]), names)
    rng = np.random.default_rng(5)
    for position in (0, 7, 23):
        for b in range(4):
            mean, std = disc._mean[position, b], disc._std[position, b]
            low, high = disc._min[position, b], disc._max[position, b]
            draws = disc.undiscretize_column(position, np.full(20000, b), rng)
            assert draws.min() >= low and draws.max() <= high
            ref = stats.truncnorm((low - mean) / std, (high - mean) / std, mean, std)
            assert stats.kstest(draws, ref.cdf).pvalue > 1e-3
            q = np.linspace(0, 1, 1001)[:-1]
            values = disc.undiscretize_uniform(position, np.full(q.size, b), q)
            assert (np.diff(values) >= 0).all()
            np.testing.assert_allclose(values[500], ref.ppf(0.5), rtol=1e-6)


def _mixed_table(breast_cancer):
    """Breast cancer with a categorical column of 3 codes (3) and one of dozens (5)."""
    X, _, names, _ = breast_cancer
    X = X.copy()
    X[:, 3] = np.round(X[:, 3] / 500)  # a small categorical column
    X[:, 5] = np.round(X[:, 5] * 200)  # a categorical column with dozens of codes
    assert np.unique(X[:, 5]).size > 16
    return X, names


@pytest.mark.parametrize("categorical", [[], [3], [3, 5]])
def test_compiled_kernel_gives_the_numpy_samples_bit_for_bit(breast_cancer, categorical):
    """With numba installed, the compiled kernel draws exactly what the numpy function
    draws for the same seed (so results do not depend on numba being present), for a
    few categories (counted) and for many (binary search), for odd sample counts, one
    sample and two, into given arrays or new ones."""
    from whylens.representations import tabular

    pytest.importorskip("numba")
    X, names = _mixed_table(breast_cancer)
    continuous = [c for c in range(X.shape[1]) if c not in categorical and c % 4]
    disc = Discretizer("quartile").fit(X, continuous, names)
    sampler = TabularSampler(X, categorical, names, disc)
    assert sampler._kernel is not None and sampler._kernel is not tabular.fill_categorical
    for around, n in ((False, 3000), (True, 2999), (False, 1), (True, 2)):
        compiled = sampler.sample(X[7], n, np.random.default_rng(11), around)
        out = np.empty((X.shape[1], n))
        rows_out = np.empty((n, X.shape[1]))
        into = sampler.sample(X[7], n, np.random.default_rng(11), around, out=out,
                              rows_out=rows_out)
        assert into[0].base is out and into[1] is rows_out
        np.testing.assert_array_equal(into[1], compiled[1])
        np.testing.assert_array_equal(into[0], compiled[0])
        kernel, sampler._kernel = sampler._kernel, None
        plain = sampler.sample(X[7], n, np.random.default_rng(11), around)
        sampler._kernel = kernel
        np.testing.assert_array_equal(compiled[0], plain[0])
        np.testing.assert_array_equal(compiled[1], plain[1])


def test_numpy_blocks_of_columns_give_the_column_by_column_samples(breast_cancer,
                                                                   monkeypatch):
    """The numpy function works on blocks of columns; any block size (one column at
    a time, all at once) gives the same samples bit for bit."""
    from whylens.representations import tabular

    X, names = _mixed_table(breast_cancer)
    disc = Discretizer("decile").fit(X, [c for c in range(X.shape[1]) if c not in (3, 5)],
                                     names)
    sampler = TabularSampler(X, [3, 5], names, disc)
    sampler._kernel = None
    results = []
    for block in (1, 7 * 999, 10**9):
        monkeypatch.setattr(tabular, "_BLOCK_UNIFORMS", block)
        results.append(sampler.sample(X[2], 999, np.random.default_rng(5)))
    for Z, inverse in results[1:]:
        np.testing.assert_array_equal(Z, results[0][0])
        np.testing.assert_array_equal(inverse, results[0][1])


def test_samples_are_determined_by_the_seed_through_uniform_draws(breast_cancer):
    """Categorical columns take one ``rng.random`` uniform per column and sample, in
    column order, after the continuous columns' normals: a value is the category whose
    share of [0, 1) holds its uniform (known answer from the training frequencies)."""
    X, names = _mixed_table(breast_cancer)
    sampler = TabularSampler(X, [3, 5], names, None)
    n = 500
    Z, inverse = sampler.sample(X[0], n, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    rng.standard_normal((X.shape[1] - 2, n))
    u = rng.random((2, n))
    for j, col in enumerate((3, 5)):
        values, counts = np.unique(X[:, col], return_counts=True)
        cum = np.cumsum(counts) / counts.sum()
        expected = values[np.minimum(np.searchsorted(cum, u[j], side="right"),
                                     values.size - 1)]
        np.testing.assert_array_equal(inverse[1:, col], expected[1:])
        np.testing.assert_array_equal(Z[1:, col], (expected == X[0, col])[1:])
    assert inverse[0].tolist() == X[0].tolist()


def test_refitting_a_discretizer_rebuilds_its_one_row_bins(breast_cancer):
    """fit() builds every table again: bins of one row after a refit on other data are
    those of a fresh discretizer (the one-row edge table was cached on first use)."""
    X, _, names, _ = breast_cancer
    cols = range(X.shape[1])
    disc = Discretizer("quartile").fit(X + 1000.0, cols, names)
    disc.discretize(X[0])  # the one-row path, before the refit
    disc.fit(X, cols, names)
    fresh = Discretizer("quartile").fit(X, cols, names)
    for row in X[:20]:
        np.testing.assert_array_equal(disc.discretize(row), fresh.discretize(row))
        np.testing.assert_array_equal(disc.discretize(row), disc.discretize(row[None])[0])


def test_a_sampler_keeps_its_discretizer_as_fitted(breast_cancer):
    """A sampler's tables are built in its constructor from the discretizer as it was
    then; refitting that object later on other data changes nothing of the sampler."""
    X, names = _mixed_table(breast_cancer)
    cont = [c for c in range(X.shape[1]) if c not in (3, 5)]
    disc = Discretizer("quartile").fit(X, cont, names)
    sampler = TabularSampler(X, [3, 5], names, disc)
    reference = TabularSampler(X, [3, 5], names, Discretizer("quartile").fit(X, cont, names))
    disc.fit(X[::-1] * 3.0 + 7.0, cont, names)
    for kernel in (sampler._kernel, None):
        sampler._kernel = reference._kernel = kernel
        ours = sampler.sample(X[4], 801, np.random.default_rng(2))
        theirs = reference.sample(X[4], 801, np.random.default_rng(2))
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_array_equal(ours[1], theirs[1])
        assert sampler.describe_row(X[4], names, {}) == reference.describe_row(X[4], names, {})


def test_first_positions_and_bins_of_one_row_match_the_general_path(breast_cancer):
    """The one-row fast paths (edge table, bin lookup) agree with searchsorted and
    with a search of the value lists, also for a bin that training never filled."""
    X, _, names, _ = breast_cancer
    X = X.copy()
    X[:, 3] = np.round(X[:, 3] / 500)
    disc = Discretizer("quartile").fit(X, [c for c in range(X.shape[1]) if c != 3], names)
    # The top bin of column 0 is never seen by the sampler.
    sampler = TabularSampler(X[X[:, 0] <= disc.edges[0][-1]], [3], names, disc)
    rows = np.vstack([X[:40], X[X[:, 0] > disc.edges[0][-1]][:3]])
    for row in rows:
        np.testing.assert_array_equal(disc.discretize(row), disc.discretize(row[None])[0])
        expected = []
        bins = disc.discretize(row[None])[0]
        for j, col in enumerate(sampler.cat_columns):
            value = bins[sampler._disc_pos[col]] if sampler._disc_pos[col] >= 0 else row[col]
            hit = np.flatnonzero(sampler.feature_values[j] == value)
            expected.append(hit[0] if hit.size else -1)
        np.testing.assert_array_equal(sampler._first_positions(row), expected)
    assert (sampler._first_positions(rows[-1])[0] == -1)


def test_tabulated_quantiles_are_close_to_the_exact_truncated_normal(breast_cancer):
    """Values in bins come from a piecewise-linear table of each bin's truncated-normal
    quantile function: exact at the knots, and within a Wasserstein-1 distance of
    0.5 % of the bin's std everywhere (the worst bins are the outer ones, whose
    quantile function is steep in its last knot interval; the CDF error is at most one
    interval's mass, 1/512). A bin's mean over 1250 samples has a noise of 2.8 %."""
    X, _, names, _ = breast_cancer
    disc = Discretizer("quartile").fit(X, range(X.shape[1]), names)
    knots = disc.QUANTILE_KNOTS
    n = 2**14
    mid = (np.arange(n) + 0.5) / n
    at_knots = np.arange(knots) / knots
    for position in range(disc.columns.size):
        for b in range(disc.edges[position].size + 1):
            stats_ = [np.full(n, a[position, b]) for a in (disc._min, disc._max, disc._mean,
                                                            disc._std)]
            exact = truncated_normal_ppf(*stats_, mid)
            approx = disc.undiscretize_uniform(position, np.full(n, b), mid)
            assert np.abs(approx - exact).mean() <= 5e-3 * disc._std[position, b]
            exact_knots = truncated_normal_ppf(*(s[:knots] for s in stats_), at_knots)
            table = disc.undiscretize_uniform(position, np.full(knots, b), at_knots)
            np.testing.assert_allclose(table[1:], exact_knots[1:], rtol=1e-12)


@pytest.mark.parametrize("bit_generator", ["PCG64", "MT19937", "Philox", "SFC64"])
def test_bins_follow_training_frequencies_for_every_bit_generator(breast_cancer, bit_generator):
    """A Generator over any numpy bit generator draws the bins with their training
    frequencies (raw draws of MT19937 carry 32 random bits, not 64: an earlier
    sampler that took them as 64 put half the samples in the first bin)."""
    X, _, names, _ = breast_cancer
    disc = Discretizer("quartile").fit(X, range(X.shape[1]), names)
    sampler = TabularSampler(X, [], names, disc)
    rng = np.random.Generator(getattr(np.random, bit_generator)(5))
    _, inverse = sampler.sample(X[0], 20000, rng)
    expected = np.bincount(disc.discretize(X)[:, 0], minlength=4) / X.shape[0]
    got = np.bincount(disc.discretize(inverse[1:])[:, 0], minlength=4) / 19999
    np.testing.assert_allclose(got, expected, atol=0.015)
