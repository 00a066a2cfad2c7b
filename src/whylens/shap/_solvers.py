"""Modality-free Shapley solvers: exact enumeration, kernel regression, permutations.

Each solver takes a :class:`~whylens.shap._maskers.Game` and the game's values
at the empty and the full coalition, and returns ``phi`` of shape
``(n_features, n_outputs)`` with ``phi.sum(0) == v_full - v_empty``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from whylens.errors import InputError, NotSupportedError, describe

__all__ = [
    "MAX_EXACT_FEATURES",
    "exact_shapley",
    "kernel_allocation",
    "kernel_shapley",
    "permutation_shapley",
    "sample_kernel_coalitions",
]

#: Largest number of features :func:`exact_shapley` enumerates by default (2^20 coalitions).
MAX_EXACT_FEATURES = 20
_EXACT_BLOCK = 1 << 15


def _bits(ints: np.ndarray, d: int) -> np.ndarray:
    """Boolean masks (m, d) of integer-coded coalitions (bit j = feature j)."""
    return ((ints[:, None] >> np.arange(d, dtype=np.int64)) & 1).astype(bool)


def exact_shapley(game, v_empty: np.ndarray, v_full: np.ndarray) -> np.ndarray:
    """Exact Shapley values by enumerating every coalition.

    ``phi_j = sum_{S ∋ j} w(|S|-1) v(S) - sum_{S ∌ j} w(|S|) v(S)`` with
    ``w(s) = s! (d-s-1)! / d!``: two matrix products per block of coalitions,
    so every model output is used by all features at once.

    Parameters
    ----------
    game : Game
    v_empty, v_full : ndarray of shape (n_outputs,)

    Returns
    -------
    ndarray of shape (n_features, n_outputs)
    """
    d = game.n_features
    w = np.array([1.0 / (d * math.comb(d - 1, s)) for s in range(d)])
    a = np.concatenate([[0.0], w])  # weight of v(S) for j in S, by |S|
    b = np.concatenate([w, [0.0]])  # weight of v(S) for j not in S, by |S|
    phi = np.zeros((d, v_full.shape[0]))
    total = 1 << d
    # The empty and the full coalition are known already.
    phi += np.outer(np.full(d, a[d]), v_full) - np.outer(np.full(d, b[0]), v_empty)
    for start in range(1, total - 1, _EXACT_BLOCK):
        ints = np.arange(start, min(start + _EXACT_BLOCK, total - 1), dtype=np.int64)
        Z = _bits(ints, d)
        size = Z.sum(axis=1)
        v = game(Z)
        phi += Z.T.astype(np.float64) @ (a[size, None] * v)
        phi -= (~Z).T.astype(np.float64) @ (b[size, None] * v)
    return phi


@functools.lru_cache(maxsize=8)
def exact_masks(d: int) -> np.ndarray:
    """Every coalition but the empty and the full one, (2^d - 2, d) bools (cached, read-only)."""
    Z = _bits(np.arange(1, (1 << d) - 1, dtype=np.int64), d)
    Z.flags.writeable = False
    return Z


@functools.lru_cache(maxsize=8)
def _exact_weights(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Z as float64, a+b, b)`` by coalition of :func:`exact_masks` (cached, read-only)."""
    Z = exact_masks(d)
    w = np.array([1.0 / (d * math.comb(d - 1, s)) for s in range(d)])
    a = np.concatenate([[0.0], w])
    b = np.concatenate([w, [0.0]])
    size = Z.sum(axis=1)
    out = (Z.astype(np.float64), a[size] + b[size], b[size])
    for array in out:
        array.flags.writeable = False
    return out


def exact_finish(Z: np.ndarray, v: np.ndarray, v_empty: np.ndarray,
                 v_full: np.ndarray) -> np.ndarray:
    """Exact Shapley values from ``v`` at :func:`exact_masks` (see :func:`exact_shapley`).

    ``phi_j = sum_S [j in S] (a+b)(|S|) v(S) - sum_S b(|S|) v(S)``: one matrix
    product, the second term shared by every feature.
    """
    d = Z.shape[1]
    if Z.shape[0] == (1 << d) - 2 and Z is exact_masks(d):
        Zf, ab, b = _exact_weights(d)
    else:
        w = np.array([1.0 / (d * math.comb(d - 1, s)) for s in range(d)])
        size = Z.sum(axis=1)
        a_, b_ = np.concatenate([[0.0], w]), np.concatenate([w, [0.0]])
        Zf, ab, b = Z.astype(np.float64), a_[size] + b_[size], b_[size]
    w_full = 1.0 / d  # a(d): the full coalition; b(0) = 1/d for the empty one
    phi = Zf.T @ (ab[:, None] * v)
    phi -= (b @ v)[None, :]
    phi += w_full * (v_full - v_empty)[None, :]
    return phi


# ------------------------------------------------------------------ kernel SHAP
def _pairs_in_stratum(d: int, s: int) -> int:
    """Complementary pairs {S, N\\S} with min(|S|, d-|S|) = s."""
    c = math.comb(d, s)
    return c // 2 if 2 * s == d else c


def kernel_allocation(d: int, n_pairs: int, size_weights: str = "leverage") -> dict[int, int]:
    """Split ``n_pairs`` complementary pairs among the sizes s = 1..d//2.

    Sizes are enumerated completely from the ends inwards: s = 1 (and d-1)
    always when the budget allows, then the next sizes while their share of
    the budget under ``size_weights`` covers their full count. What is left
    is spread over the remaining sizes in proportion to ``size_weights``
    ("leverage": equal per size, Musco & Witter's leverage scores; "kernel":
    the kernel's mass per size, ``1/(s(d-s))``; "sqrt": ``1/sqrt(s(d-s))``),
    never beyond a stratum's size. This is the variance-optimal (Neyman)
    allocation ``n_s ∝ sqrt(a_s)`` capped at each stratum's count when the
    per-size variance term ``a_s`` follows the weights; for the leverage
    weights, ``a_s`` measured on a gradient-boosted model at d=30 is flat
    within about ±25% (benchmarks/README.md), so equal shares are near optimal and
    a size is only enumerated when its equal share covers it.

    Returns
    -------
    dict of int to int
        Pairs to draw for each size s (1 <= s <= d//2).
    """
    sizes = list(range(1, d // 2 + 1))
    cap = {s: _pairs_in_stratum(d, s) for s in sizes}
    kern = {s: (1.0 if 2 * s == d else 2.0) / (s * (d - s)) for s in sizes}
    if size_weights == "kernel":
        g = dict(kern)
    elif size_weights == "leverage":
        g = {s: (1.0 if 2 * s == d else 2.0) for s in sizes}
    elif size_weights == "sqrt":
        g = {s: (1.0 if 2 * s == d else 2.0) / math.sqrt(s * (d - s)) for s in sizes}
    else:
        raise InputError(describe("size_weights", "'leverage', 'kernel' or 'sqrt'",
                                  size_weights))
    alloc = {s: 0 for s in sizes}
    left = n_pairs
    remaining = list(sizes)
    # Phase 1: complete strata from the ends, as long as their share covers them.
    while remaining and left > 0:
        s = remaining[0]
        share = left * g[s] / sum(g[t] for t in remaining)
        # Size 1 (and d-1) always when affordable: the design then has full rank.
        if share + 1e-9 >= cap[s] or (s == 1 and left >= cap[s]):
            alloc[s] = cap[s]
            left -= cap[s]
            remaining.pop(0)
        else:
            break
    # Phase 2: water-filling with the same weights.
    while remaining and left > 0:
        total_g = sum(g[s] for s in remaining)
        full = [s for s in remaining if left * g[s] / total_g >= cap[s] - alloc[s]]
        if full:
            for s in full:
                left -= cap[s] - alloc[s]
                alloc[s] = cap[s]
                remaining.remove(s)
            continue
        target = {s: left * g[s] / total_g for s in remaining}
        base = {s: math.floor(target[s]) for s in remaining}
        extra = left - sum(base.values())
        order = sorted(remaining, key=lambda s: (-(target[s] - base[s]), s))
        for s in order[:extra]:
            base[s] += 1
        for s in remaining:
            alloc[s] += base[s]
        left = 0
    return alloc


@functools.lru_cache(maxsize=256)
def _comb_table(n: int, k: int) -> np.ndarray:
    """``table[i, c] = C(c, i)`` for i <= k, c < n, as int64 (cached, read-only)."""
    table = np.zeros((k + 1, n), dtype=np.int64)
    for i in range(k + 1):
        for c in range(n):
            table[i, c] = math.comb(c, i)
    table.flags.writeable = False
    return table


def _unrank(ranks: np.ndarray, n: int, k: int) -> np.ndarray:
    """k-subsets of range(n) (as boolean rows) with the given colex ranks."""
    out = np.zeros((ranks.shape[0], n), dtype=bool)
    if k == 0:
        return out
    table = _comb_table(n, k)
    r = ranks.astype(np.int64).copy()
    rows = np.arange(ranks.shape[0])
    for i in range(k, 0, -1):
        c = np.searchsorted(table[i], r, side="right") - 1
        out[rows, c] = True
        r -= table[i, c]
    return out


#: Strata up to this many subsets are drawn from a cached table of all of them.
_TABLE_MAX = 1 << 16


@functools.lru_cache(maxsize=64)
def _all_subsets(n: int, k: int) -> np.ndarray:
    """Every k-subset of range(n) as boolean rows, in colex rank order (cached, read-only)."""
    table = _unrank(np.arange(math.comb(n, k), dtype=np.int64), n, k)
    table.flags.writeable = False
    return table


def _distinct_subsets(n: int, k: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct k-subsets of range(n), uniformly without replacement."""
    total = math.comb(n, k)
    if total <= _TABLE_MAX:
        return _all_subsets(n, k)[rng.choice(total, size=count, replace=False)]
    if total < 2**62:
        ranks = rng.choice(total, size=count, replace=False)
        return _unrank(np.asarray(ranks, dtype=np.int64), n, k)
    seen: dict[bytes, None] = {}
    rows: list[np.ndarray] = []
    while len(rows) < count:
        need = count - len(rows)
        keys = rng.random((need, n)).argsort(axis=1)[:, :k]
        Z = np.zeros((need, n), dtype=bool)
        np.put_along_axis(Z, keys, True, axis=1)
        for z in Z:
            key = np.packbits(z).tobytes()
            if key not in seen:
                seen[key] = None
                rows.append(z)
    return np.array(rows[:count])


def sample_kernel_coalitions(d: int, nsamples: int, rng: np.random.Generator,
                             size_weights: str = "leverage") -> tuple[np.ndarray, np.ndarray]:
    """Coalitions and weights for kernel SHAP (empty and full coalition excluded).

    Complementary pairs, drawn without replacement inside each size, the
    smallest and largest sizes enumerated first (:func:`kernel_allocation`).
    A coalition of size s gets weight ``W_s / n_s``: the Shapley kernel's
    total mass of size s, ``(d-1)/(s(d-s))``, over the number drawn of that
    size (a stratified, without-replacement estimate of the full regression).
    With ``nsamples >= 2**d`` every coalition is drawn once and the weights
    are the Shapley kernel's: the regression gives exact Shapley values.

    Returns
    -------
    Z : ndarray of bool, shape (m, d)
    weights : ndarray of shape (m,)
    """
    n_pairs = (min(nsamples, 2**d if d < 63 else nsamples) - 2) // 2
    alloc = kernel_allocation(d, n_pairs, size_weights)
    blocks, weights = [], []
    for s, k in alloc.items():
        if k == 0:
            continue
        if 2 * s == d:  # pairs are {S, N\S} with feature 0 in S
            rest = _distinct_subsets(d - 1, s - 1, k, rng)
            first = np.concatenate([np.ones((k, 1), dtype=bool), rest], axis=1)
        else:
            first = _distinct_subsets(d, s, k, rng)
        blocks += [first, ~first]
        w = (d - 1) / (s * (d - s)) / (2 * k if 2 * s == d else k)
        weights.append(np.full(2 * k, w))
    if not blocks:
        return np.zeros((0, d), dtype=bool), np.zeros(0)
    return np.concatenate(blocks), np.concatenate(weights)


def solve_constrained(Z: np.ndarray, y: np.ndarray, weights: np.ndarray,
                      delta: np.ndarray) -> np.ndarray:
    """Weighted least squares ``min sum w (y - Z phi)^2`` subject to ``sum phi = delta``.

    The last feature is eliminated (``phi_d = delta - sum_{j<d} phi_j``) and
    the rest solved on the square-root-weighted rows (normal equations with
    one step of iterative refinement; ``lstsq`` when they are singular).

    Parameters
    ----------
    Z : ndarray of bool, shape (m, d)
    y : ndarray of shape (m, k)
        ``v(S) - v(empty)``.
    weights : ndarray of shape (m,)
    delta : ndarray of shape (k,)
        ``v(full) - v(empty)``.

    Returns
    -------
    ndarray of shape (d, k)
    """
    d = Z.shape[1]
    Zf = Z.astype(np.float64)
    if d == 1:
        return delta[None, :].copy()
    X = Zf[:, :-1] - Zf[:, -1:]
    target = y - Zf[:, -1:] * delta[None, :]
    sw = np.sqrt(weights)[:, None]
    A, B = X * sw, target * sw
    # Normal equations with one step of iterative refinement: as accurate as
    # lstsq here (1e-13 at full enumeration) and several times cheaper.
    G = A.T @ A
    try:
        head = np.linalg.solve(G, A.T @ B)
        head += np.linalg.solve(G, A.T @ (B - A @ head))
    except np.linalg.LinAlgError:  # rank deficient: minimum-norm least squares
        head, *_ = np.linalg.lstsq(A, B, rcond=None)
    return np.vstack([head, delta[None, :] - head.sum(axis=0, keepdims=True)])


def kernel_shapley(game, v_empty: np.ndarray, v_full: np.ndarray, nsamples: int,
                   rng: np.random.Generator, size_weights: str = "leverage",
                   l1_reg: bool | int = False) -> np.ndarray:
    """Kernel SHAP: the Shapley kernel's constrained regression on sampled coalitions.

    Parameters
    ----------
    game : Game
    v_empty, v_full : ndarray of shape (n_outputs,)
    nsamples : int
        Coalitions evaluated, the empty and the full one included.
    rng : numpy.random.Generator
    size_weights : {"leverage", "kernel", "sqrt"}
    l1_reg : False or int
        ``False``: every feature estimated. An int k: keep the k features a
        Lasso-LARS path on the weighted problem picks first (per output); the
        others are 0.

    Returns
    -------
    ndarray of shape (n_features, n_outputs)
    """
    d = game.n_features
    if d == 1:
        return (v_full - v_empty)[None, :].copy()
    Z, weights = sample_kernel_coalitions(d, nsamples, rng, size_weights)
    return kernel_finish(Z, weights, game(Z), v_empty, v_full, l1_reg)


def kernel_finish(Z: np.ndarray, weights: np.ndarray, v: np.ndarray, v_empty: np.ndarray,
                  v_full: np.ndarray, l1_reg: bool | int = False) -> np.ndarray:
    """Kernel SHAP's regression on evaluated coalitions ``v = game(Z)``.

    Returns
    -------
    ndarray of shape (n_features, n_outputs)
    """
    d = Z.shape[1]
    delta = v_full - v_empty
    if d == 1:
        return delta[None, :].copy()
    y = v - v_empty[None, :]
    if l1_reg is False:
        return solve_constrained(Z, y, weights, delta)
    from sklearn.linear_model import lars_path

    phi = np.zeros((d, delta.shape[0]))
    sw = np.sqrt(weights)
    for j in range(delta.shape[0]):
        # Augment as shap does: the constraint as one heavily weighted row.
        Xa = np.vstack([Z * sw[:, None], np.full((1, d), 1e3)])
        ya = np.concatenate([y[:, j] * sw, [delta[j] * 1e3]])
        _, _, coefs = lars_path(Xa, ya, max_iter=int(l1_reg), method="lasso")
        keep = np.flatnonzero(coefs[:, -1] != 0)
        if keep.size == 0:
            keep = np.array([int(np.argmax(np.abs(Z.T.astype(float) @ (weights * y[:, j]))))])
        phi[keep, j] = solve_constrained(Z[:, keep], y[:, j : j + 1], weights,
                                         delta[j : j + 1])[:, 0]
    return phi


# ------------------------------------------------------------ permutation SHAP
def permutation_orders(d: int, n_permutations: int, rng: np.random.Generator,
                       sampling: str = "antithetic") -> np.ndarray:
    """Feature orderings for permutation SHAP, as an (n_permutations, d) int array.

    ``"antithetic"``: random permutations each followed by its reverse.
    ``"balanced"``: cyclic shifts of random permutations (every feature takes
    every position equally often per block of d), each followed by its reverse.
    """
    half = max(1, n_permutations // 2)
    if sampling == "antithetic":
        base = rng.permuted(np.tile(np.arange(d), (half, 1)), axis=1)
    elif sampling == "balanced":
        n_blocks = -(-half // d)
        seeds = rng.permuted(np.tile(np.arange(d), (n_blocks, 1)), axis=1)
        shifts = (np.arange(d)[:, None] + np.arange(d)[None, :]) % d  # (shift, position)
        base = seeds[:, shifts].reshape(n_blocks * d, d)[:half]
    else:
        raise NotSupportedError(describe("sampling", "'antithetic' or 'balanced'", sampling))
    out = np.empty((2 * half, d), dtype=np.int64)
    out[0::2] = base
    out[1::2] = base[:, ::-1]
    return out


def permutation_shapley(game, v_empty: np.ndarray, v_full: np.ndarray,
                        orders: np.ndarray) -> np.ndarray:
    """Permutation SHAP: mean marginal contributions along the given orderings.

    Every prefix of every ordering (except the empty and the full one) is one
    coalition; all of them are evaluated in the game's chunks. Efficiency is
    exact: along each ordering the contributions telescope.

    Parameters
    ----------
    game : Game
    v_empty, v_full : ndarray of shape (n_outputs,)
    orders : ndarray of int, shape (n_permutations, d)

    Returns
    -------
    ndarray of shape (n_features, n_outputs)
    """
    p, d = orders.shape
    k = v_full.shape[0]
    per_block = max(1, game.block // max(d - 1, 1))
    phi = np.zeros((d, k))
    for start in range(0, p, per_block):
        block = orders[start : start + per_block]
        v = game(permutation_masks(block)) if d > 1 else np.zeros((0, k))
        phi += permutation_finish(block, v, v_empty, v_full) * block.shape[0]
    return phi / p


def permutation_masks(orders: np.ndarray) -> np.ndarray:
    """Every proper non-empty prefix of every ordering: ``(p * (d-1), d)`` booleans."""
    p, d = orders.shape
    rank = np.argsort(orders, axis=1)  # position of each feature
    Z = rank[:, None, :] < np.arange(1, d)[None, :, None]  # (p, d-1, d): prefix of length i
    return Z.reshape(p * (d - 1), d)


def permutation_finish(orders: np.ndarray, v: np.ndarray, v_empty: np.ndarray,
                       v_full: np.ndarray) -> np.ndarray:
    """Mean marginal contributions from ``v = game(permutation_masks(orders))``.

    Returns
    -------
    ndarray of shape (n_features, n_outputs)
    """
    p, d = orders.shape
    k = v_full.shape[0]
    rank = np.argsort(orders, axis=1)
    path = np.concatenate([np.broadcast_to(v_empty, (p, 1, k)), v.reshape(p, d - 1, k),
                           np.broadcast_to(v_full, (p, 1, k))], axis=1)
    diffs = np.diff(path, axis=1)  # (p, d, k): contribution of the feature at step i
    return np.take_along_axis(diffs, rank[:, :, None], axis=1).sum(axis=0) / p
