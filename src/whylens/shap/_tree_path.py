"""Path-dependent TreeSHAP (numba): values and interactions in one depth-first pass.

See :mod:`whylens.shap._tree_kernels` for the flat ensemble layout and the
integral form of the Shapley values that this pass evaluates.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["BLOCK", "path_interactions", "path_shap"]


# ------------------------------------------------------------ path-dependent TreeSHAP


#: Rows explained together in one pass over a tree (amortises the traversal).
BLOCK = 8


@njit(cache=True, error_model="numpy")
def _block_path(Xb, left, right, feature, threshold, default_left, cover, value, roots,
                tree_out, tn, tw, cond, phi, depth_max):
    """Add the path-dependent SHAP values of the rows ``Xb`` (R, d) to ``phi`` (R, d, n_out).

    Depth-first and iterative; the R rows share the traversal (their cover
    fractions ``z`` are the same, only the indicators ``o`` differ). Frame
    ``depth`` holds ``node``, how many children were entered (``stage``),
    the path product at the quadrature nodes (``pi``, index r * K + k) and
    the sum of ``value * product`` over the leaves below it (``S``); edge
    ``depth`` (into the child being visited) holds its feature ``ef``, factor
    ``h``, the saved per-feature state and ``dup``, the leaf sum already
    charged to a deeper edge on the same feature. With ``cond >= 0`` feature
    ``cond`` is no player: its factor becomes ``o - z`` at the leaves, which
    gives twice the interaction values with ``cond``. Everything is inlined
    by hand: a helper taking arrays costs reference counting on every call.
    """
    R, d = Xb.shape
    K = tn.shape[0]
    V = value.shape[1]
    RK = R * K
    D = depth_max + 2
    o = np.ones((d, R))
    z = np.ones(d)
    last = np.full(d, -1, dtype=np.int64)
    pi = np.empty((D, RK))
    h = np.empty((D, RK))
    S = np.empty((D, V, RK))
    dup = np.empty((D, V, RK))
    dflag = np.zeros(D, dtype=np.bool_)
    old_last = np.empty(D, dtype=np.int64)
    old_o = np.empty((D, R))
    old_z = np.empty(D)
    ef = np.empty(D, dtype=np.int64)
    node = np.empty(D, dtype=np.int64)
    stage = np.empty(D, dtype=np.int64)
    w = np.empty(RK)
    scale = np.ones(R)
    for t in range(roots.shape[0]):
        root = roots[t]
        if left[root] < 0:
            continue
        off = tree_out[t]
        depth = 0
        node[0] = root
        stage[0] = 0
        for m in range(RK):
            pi[0, m] = 1.0
        while True:
            n = node[depth]
            st = stage[depth]
            if st == 2 or left[n] < 0:
                if depth == 0:
                    break
                if st != 2:  # a leaf: its sum is value * product
                    if cond >= 0:
                        for r in range(R):
                            scale[r] = o[cond, r] - z[cond]
                    for j in range(V):
                        vj = value[n, j]
                        for r in range(R):
                            sr = scale[r] * vj
                            for k in range(K):
                                m = r * K + k
                                S[depth, j, m] = pi[depth, m] * sr
                depth -= 1
                # close edge `depth`: the child's leaf sum S[depth + 1] is known
                f = ef[depth]
                zf = z[f]
                if f != cond:
                    for r in range(R):
                        coef = o[f, r] - zf
                        for k in range(K):
                            m = r * K + k
                            w[m] = coef * tw[k] / h[depth, m]
                    flag = dflag[depth]
                    for j in range(V):
                        for r in range(R):
                            acc = 0.0
                            for k in range(K):
                                m = r * K + k
                                s = S[depth + 1, j, m]
                                if flag:
                                    s -= dup[depth, j, m]
                                acc += w[m] * s
                            phi[r, f, off + j] += acc
                    up = old_last[depth]
                    if up >= 0:
                        if dflag[up]:
                            for j in range(V):
                                for m in range(RK):
                                    dup[up, j, m] += S[depth + 1, j, m]
                        else:
                            dflag[up] = True
                            for j in range(V):
                                for m in range(RK):
                                    dup[up, j, m] = S[depth + 1, j, m]
                    last[f] = up
                for r in range(R):
                    o[f, r] = old_o[depth, r]
                z[f] = old_z[depth]
                if stage[depth] == 1:
                    for j in range(V):
                        for m in range(RK):
                            S[depth, j, m] = S[depth + 1, j, m]
                else:
                    for j in range(V):
                        for m in range(RK):
                            S[depth, j, m] += S[depth + 1, j, m]
                continue
            stage[depth] = st + 1
            c = left[n] if st == 0 else right[n]
            f = feature[n]
            thr = threshold[n]
            dl = default_left[n] != 0
            first = st == 0
            pz = z[f]
            nz = pz * (cover[c] / cover[n])
            z[f] = nz
            old_z[depth] = pz
            ef[depth] = f
            for r in range(R):
                xv = Xb[r, f]
                if xv != xv:
                    go_left = dl
                else:
                    go_left = xv <= thr
                po = o[f, r]
                old_o[depth, r] = po
                o[f, r] = po if go_left == first else 0.0
            if f == cond:
                for m in range(RK):
                    pi[depth + 1, m] = pi[depth, m]
            else:
                dflag[depth] = False
                prev = last[f]
                old_last[depth] = prev
                last[f] = depth
                if prev < 0:
                    for r in range(R):
                        dn = o[f, r] - nz
                        for k in range(K):
                            m = r * K + k
                            hn = nz + tn[k] * dn
                            h[depth, m] = hn
                            pi[depth + 1, m] = pi[depth, m] * hn
                else:
                    for r in range(R):
                        dn = o[f, r] - nz
                        dp = old_o[depth, r] - pz
                        for k in range(K):
                            m = r * K + k
                            hn = nz + tn[k] * dn
                            h[depth, m] = hn
                            pi[depth + 1, m] = pi[depth, m] * hn / (pz + tn[k] * dp)
            depth += 1
            node[depth] = c
            stage[depth] = 0


@njit(nogil=True, cache=True, error_model="numpy")
def path_shap(X, left, right, feature, threshold, default_left, cover, value, roots, tree_out,
              n_out, tn, tw, depth_max):
    """Path-dependent SHAP values, (n, d, n_out), in blocks of BLOCK rows."""
    n, d = X.shape
    phi = np.zeros((n, d, n_out))
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in range(n_blocks):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        _block_path(X[lo:hi], left, right, feature, threshold, default_left, cover, value,
                    roots, tree_out, tn, tw, -1, phi[lo:hi], depth_max)
    return phi


@njit(nogil=True, cache=True, error_model="numpy")
def path_interactions(X, left, right, feature, threshold, default_left, cover, value, roots,
                      tree_out, n_out, tn, tw, depth_max, used):
    """Path-dependent SHAP interaction values, (n, d, d, n_out), in blocks of BLOCK rows."""
    n, d = X.shape
    out = np.zeros((n, d, d, n_out))
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in range(n_blocks):
        lo = b * BLOCK
        hi = min(n, lo + BLOCK)
        R = hi - lo
        Xb = X[lo:hi]
        phi = np.zeros((R, d, n_out))
        _block_path(Xb, left, right, feature, threshold, default_left, cover, value, roots,
                    tree_out, tn, tw, -1, phi, depth_max)
        tmp = np.zeros((R, d, n_out))
        for u in range(used.shape[0]):
            j = used[u]
            tmp[:, :, :] = 0.0
            _block_path(Xb, left, right, feature, threshold, default_left, cover, value,
                        roots, tree_out, tn, tw, j, tmp, depth_max)
            for r in range(R):
                for a in range(d):
                    if a != j:
                        for m in range(n_out):
                            out[lo + r, a, j, m] = 0.5 * tmp[r, a, m]
        for r in range(R):
            for a in range(d):
                for m in range(n_out):
                    s = 0.0
                    for b2 in range(d):
                        if b2 != a:
                            s += out[lo + r, a, b2, m]
                    out[lo + r, a, a, m] = phi[r, a, m] - s
    return out
