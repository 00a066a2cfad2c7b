"""The correlation-dependent transform of LinearExplainer, batched over coalitions.

Exact (:func:`exact_transform`, small d): every coalition of one size is
solved in one batched call.

Sampled (:func:`sampled_transform`): each ordering adds the features one at a
time; the game's linear map
``r_S`` (see :func:`whylens.shap._linear._row_maps`) is needed for every prefix
``S`` of every ordering. Solving each prefix from scratch costs a factorisation
of ``C[S, S]`` per prefix, ``O(d^4)`` per ordering, and (in Python) a few dozen
small NumPy calls per prefix. Here the prefixes of a block of orderings are
advanced together, one feature per step, with batched arrays:

- non-singular covariance: ``C[S, S]^-1`` is bordered by one row and column
  per step (a sweep, ``O(d^2)`` instead of a fresh ``O(|S|^3)`` solve);
- singular covariance: each prefix keeps the truncated pseudo-inverse of
  ``numpy.linalg.pinv(C[S, S], rcond, hermitian=True)`` (eigenvalues at most
  ``rcond`` times the largest are dropped), one batched ``eigh`` per step,
  of ``C[S, S]`` while ``|S| <= p`` and of the ``p x p`` Gram matrix
  ``A_S A_S^T`` (same non-zero eigenvalues) once ``|S| > p``, where ``A``
  (p, d) has ``A^T A = C``: the weighted centred background when it has
  fewer rows than features (else ``p = d``: a badly scaled but full-rank
  background, counted as singular, pays one ``eigh`` of ``C[S, S]`` per
  prefix, batched).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

#: Bytes of working arrays per block of orderings.
_BLOCK_BYTES = 32 * 2**20


def _pinv_sym_solve(G: np.ndarray, rhs: np.ndarray, rcond: float) -> np.ndarray:
    """``numpy.linalg.pinv(G, rcond, hermitian=True) @ rhs`` over stacks (m, s, s), (m, s, k).

    The eigenvalues at most ``rcond`` times the largest (in absolute value)
    are dropped, as ``pinv`` does; ``V diag(1/w) V^T rhs`` is applied right to
    left, never forming the pseudo-inverse.
    """
    w, V = np.linalg.eigh(G)
    big = np.abs(w).max(axis=-1, keepdims=True)
    keep = np.abs(w) > rcond * big
    inv = np.where(keep, 1.0 / np.where(keep, w, 1.0), 0.0)
    return V @ (inv[..., None] * (np.swapaxes(V, -1, -2) @ rhs))


def _accumulate(T: np.ndarray, j: np.ndarray, delta: np.ndarray) -> None:
    """``T[:, j[m], :] += delta[m]`` for every ordering m; ``delta`` (m, k, d)."""
    onehot = np.zeros((j.shape[0], T.shape[1]))
    onehot[np.arange(j.shape[0]), j] = 1.0
    T += np.einsum("mj,mkd->kjd", onehot, delta)


def _block_full_rank(coef: np.ndarray, cov: np.ndarray, orders: np.ndarray,
                     T: np.ndarray) -> None:
    """Add the block's sum over orderings to ``T``; ``cov`` positive definite.

    State per ordering, stored by feature (zero off S): ``M = C[S, S]^-1``
    and ``e = C c_rest`` (the covariance times the coefficients with S's
    zeroed). Adding feature j is one sweep (bordering) of ``M``: with
    ``v = C[S, j]``, ``w = M v`` and the Schur complement ``s = C[j, j] -
    v^T w``, ``M <- [[M + w w^T / s, -w / s], [-w^T / s, 1 / s]]``, ``O(d^2)``
    per step. Then ``r_S = c_S + M e_S`` on S.
    """
    k, d = coef.shape
    m = orders.shape[0]
    rows = np.arange(m)
    M = np.zeros((m, d, d))
    e = np.broadcast_to(cov @ coef.T, (m, d, k)).copy()
    member = np.zeros((m, d))
    prev = np.zeros((m, k, d))
    diag = np.diag(cov)
    for i in range(d):
        j = orders[:, i]
        v = cov[j]  # (m, d); only S's entries meet M's non-zero columns
        e -= v[:, :, None] * coef[:, j].T[:, None, :]
        w = (M @ v[:, :, None])[:, :, 0]  # zero off S, so w_j = 0
        schur = diag[j] - np.einsum("md,md->m", v, w)
        ws = w / schur[:, None]
        M += ws[:, :, None] * w[:, None, :]
        M[rows, :, j] = -ws
        M[rows, j, :] = -ws
        M[rows, j, j] = 1.0 / schur
        member[rows, j] = 1.0
        r = np.swapaxes(M @ (e * member[:, :, None]), 1, 2) + member[:, None, :] * coef[None]
        _accumulate(T, j, r - prev)
        prev = r


def _block_singular(coef: np.ndarray, cov: np.ndarray, A: np.ndarray | None,
                    orders: np.ndarray, T: np.ndarray, rcond: float) -> None:
    """As :func:`_block_full_rank` with the old code's truncated pseudo-inverse.

    ``r_S = c_S + pinv(C[S, S]) C[S, rest] c_rest`` on S; once ``|S| > p``,
    ``pinv(C[S, S]) C[S, rest] = A_S^T pinv(A_S A_S^T) A_rest`` (``A`` None:
    ``p = d``, always ``C[S, S]``).
    """
    k, d = coef.shape
    p = d if A is None else A.shape[0]
    m = orders.shape[0]
    rows = np.arange(m)[:, None]
    G = np.zeros((m, p, p)) if A is not None else None
    c_rest = np.broadcast_to(coef.T, (m, d, k)).copy()  # rows of S zeroed
    prev = np.zeros((m, k, d))
    for i in range(d):
        j = orders[:, i]
        S = orders[:, : i + 1]
        c_rest[rows[:, 0], j] = 0.0
        if A is not None:
            a = A[:, j].T
            G += a[:, :, None] * a[:, None, :]
        if i < p:
            css = cov[S[:, :, None], S[:, None, :]]
            sol = _pinv_sym_solve(css, cov[S] @ c_rest, rcond)  # (m, |S|, k)
        else:  # only reached with a factor (p < d)
            A_S = np.swapaxes(A[:, S], 0, 1)  # (m, p, |S|)
            sol = np.swapaxes(A_S, 1, 2) @ _pinv_sym_solve(G, A @ c_rest, rcond)
        r = np.zeros((m, k, d))
        r[rows, :, S] = np.moveaxis(coef[:, S], 0, -1) + sol
        _accumulate(T, j, r - prev)
        prev = r


def sampled_transform(coef: np.ndarray, cov: np.ndarray, orders: np.ndarray, singular: bool,
                      rcond: float, factor: np.ndarray | None = None) -> np.ndarray:
    """Mean over ``orders`` (m, d) of each ordering's Shapley transform: (k, d, d).

    Parameters
    ----------
    coef : ndarray of shape (k, d)
    cov : ndarray of shape (d, d)
        The background's covariance.
    orders : ndarray of int, shape (m, d)
        Feature orderings (permutations of ``range(d)``).
    singular : bool
        Whether ``cov`` counts as singular: then each ``C[S, S]`` is inverted
        as the pseudo-inverse with relative cut-off ``rcond``; otherwise
        exactly.
    rcond : float
    factor : ndarray of shape (p, d), optional
        ``A`` with ``A^T A = cov`` (the weighted centred background); used
        for the singular case when ``p < d``.

    Returns
    -------
    ndarray of shape (k, d, d)
    """
    k, d = coef.shape
    T = np.zeros((k, d, d))
    if not singular:
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:  # not positive definite after all: pseudo-inverses
            singular = True
    A = factor if singular and factor is not None and factor.shape[0] < d else None
    p = d if A is None else A.shape[0]
    per = 8 * d * (2 * d + 4 * k) if not singular else 8 * d * (3 * d + 4 * k + p)
    block = max(1, _BLOCK_BYTES // per)
    for start in range(0, orders.shape[0], block):
        chunk = orders[start:start + block]
        if singular:
            _block_singular(coef, cov, A, chunk, T, rcond)
        else:
            _block_full_rank(coef, cov, chunk, T)
    return T / orders.shape[0]


def exact_transform(coef: np.ndarray, cov: np.ndarray, singular: bool, rcond: float
                    ) -> np.ndarray:
    """The exact transform over all ``2^d`` coalitions, one batch per coalition size.

    ``phi_j`` gets ``+|S|! (d-|S|-1)! / d!`` times ``r_S`` for ``j in S`` and
    ``-|S|! (d-|S|-1)! / d!`` (of the smaller coalition) for ``j`` not in S,
    as ``a(|S|)`` and ``b(|S|)`` below. ``C[S, S]`` is inverted exactly
    (``solve``) unless ``singular``, then by the truncated pseudo-inverse.

    Returns
    -------
    ndarray of shape (k, d, d)
    """
    k, d = coef.shape
    T = np.zeros((k, d, d))
    w = np.array([1.0 / (d * math.comb(d - 1, s)) for s in range(d)])
    a = np.concatenate([[0.0], w])
    b = np.concatenate([w, [0.0]])
    for size in range(1, d + 1):
        S = np.array(list(itertools.combinations(range(d), size)), dtype=np.intp)
        n = S.shape[0]
        member = np.zeros((n, d), dtype=bool)
        member[np.arange(n)[:, None], S] = True
        r = np.zeros((n, k, d))
        sol = 0.0
        if size < d:
            R = np.nonzero(~member)[1].reshape(n, d - size)
            css = cov[S[:, :, None], S[:, None, :]]
            rhs = cov[S[:, :, None], R[:, None, :]] @ np.moveaxis(coef[:, R], 0, -1)
            if singular:
                sol = _pinv_sym_solve(css, rhs, rcond)
            else:
                try:
                    sol = np.linalg.solve(css, rhs)
                except np.linalg.LinAlgError:
                    sol = _pinv_sym_solve(css, rhs, rcond)
        r[np.arange(n)[:, None], :, S] = np.moveaxis(coef[:, S], 0, -1) + sol
        T += np.einsum("nj,nkd->kjd", np.where(member, a[size], -b[size]), r)
    return T
