"""Interventional TreeSHAP (numba): against a background, raw or transformed outputs.

See :mod:`whylens.shap._tree_kernels` for the flat ensemble layout and the
closed form over the background's distinct path masks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from whylens.shap._tree_rows import in_threads, n_threads, spans

# ------------------------------------------------------------- interventional TreeSHAP


@njit(cache=True, error_model="numpy")
def leaf_paths(left, right, feature, threshold, default_left, roots, depth_max):
    """Unique features of every leaf's path with their interval ``lo < x <= hi``.

    Returns
    -------
    leaves : (L,) node index of each leaf
    leaf_tree : (L,) tree of each leaf
    start : (L + 1,) offsets into the per-path-feature arrays
    feat, lo, hi : (P,) feature and interval of each unique path feature
    nan_ok : (P,) uint8, 1 when NaN follows every condition on that feature
    """
    n_nodes = left.shape[0]
    n_leaves = 0
    for i in range(n_nodes):
        if left[i] < 0:
            n_leaves += 1
    leaves = np.empty(n_leaves, dtype=np.int64)
    leaf_tree = np.empty(n_leaves, dtype=np.int64)
    start = np.zeros(n_leaves + 1, dtype=np.int64)
    cap = n_leaves * (depth_max + 1) + 1
    feat = np.empty(cap, dtype=np.int64)
    lo = np.empty(cap)
    hi = np.empty(cap)
    nan_ok = np.empty(cap, dtype=np.uint8)
    D = depth_max + 2
    path_node = np.empty(D, dtype=np.int64)
    path_left = np.empty(D, dtype=np.uint8)
    count = 0
    pos = 0
    for t in range(roots.shape[0]):
        stack = [(roots[t], 0, 0)]
        while len(stack) > 0:
            n, dep, went_left = stack.pop()
            if dep > 0:
                path_left[dep - 1] = went_left
            if left[n] >= 0:
                path_node[dep] = n
                stack.append((right[n], dep + 1, 0))
                stack.append((left[n], dep + 1, 1))
                continue
            leaves[count] = n
            leaf_tree[count] = t
            begin = pos
            for e in range(dep):
                p = path_node[e]
                f = feature[p]
                q = begin
                while q < pos and feat[q] != f:
                    q += 1
                if q == pos:
                    feat[pos] = f
                    lo[pos] = -np.inf
                    hi[pos] = np.inf
                    nan_ok[pos] = 1
                    pos += 1
                if path_left[e] == 1:
                    hi[q] = min(hi[q], threshold[p])
                else:
                    lo[q] = max(lo[q], threshold[p])
                if (default_left[p] != 0) != (path_left[e] == 1):
                    nan_ok[q] = 0
            count += 1
            start[count] = pos
    return leaves, leaf_tree, start, feat[:pos], lo[:pos], hi[:pos], nan_ok[:pos]


@njit(cache=True, inline="always", error_model="numpy")
def _mask(x, begin, end, feat, lo, hi, nan_ok):
    m = np.uint64(0)
    for q in range(begin, end):
        xv = x[feat[q]]
        if xv != xv:
            ok = nan_ok[q] != 0
        else:
            ok = lo[q] < xv and xv <= hi[q]
        if ok:
            m |= np.uint64(1) << np.uint64(q - begin)
    return m


@njit(nogil=True, cache=True, error_model="numpy")
def _count_masks(B, start, feat, lo, hi, nan_ok, leaf_lo, leaf_hi, n_distinct):
    nb = B.shape[0]
    for leaf in range(leaf_lo, leaf_hi):
        masks = np.empty(nb, dtype=np.uint64)
        for r in range(nb):
            masks[r] = _mask(B[r], start[leaf], start[leaf + 1], feat, lo, hi, nan_ok)
        masks.sort()
        k = 1
        for r in range(1, nb):
            if masks[r] != masks[r - 1]:
                k += 1
        n_distinct[leaf] = k


@njit(nogil=True, cache=True, error_model="numpy")
def _fill_masks(B, weights, start, feat, lo, hi, nan_ok, mstart, out_mask, out_weight,
                leaf_lo, leaf_hi):
    nb = B.shape[0]
    for leaf in range(leaf_lo, leaf_hi):
        masks = np.empty(nb, dtype=np.uint64)
        for r in range(nb):
            masks[r] = _mask(B[r], start[leaf], start[leaf + 1], feat, lo, hi, nan_ok)
        order = np.argsort(masks, kind="mergesort")
        pos = mstart[leaf] - 1
        prev = np.uint64(0)
        for q in range(nb):
            r = order[q]
            if q == 0 or masks[r] != prev:
                pos += 1
                out_mask[pos] = masks[r]
                out_weight[pos] = 0.0
                prev = masks[r]
            out_weight[pos] += weights[r]


def background_masks(B, weights, start, feat, lo, hi, nan_ok, n_jobs=None):
    """Distinct background masks per leaf with their total weight (weights sum to 1)."""
    L = start.shape[0] - 1
    n_distinct = np.zeros(L, dtype=np.int64)
    chunks = spans(L, n_threads(n_jobs), 1)
    in_threads(lambda a, z: _count_masks(B, start, feat, lo, hi, nan_ok, a, z, n_distinct),
               chunks, n_jobs)
    mstart = np.zeros(L + 1, dtype=np.int64)
    np.cumsum(n_distinct, out=mstart[1:])
    out_mask = np.empty(mstart[-1], dtype=np.uint64)
    out_weight = np.empty(mstart[-1])
    in_threads(lambda a, z: _fill_masks(B, weights, start, feat, lo, hi, nan_ok, mstart,
                                         out_mask, out_weight, a, z), chunks, n_jobs)
    return mstart, out_mask, out_weight


def shapley_coefficients(p_max):
    """``ca[a, b] = (a-1)! b! / (a+b)!`` and ``cb[a, b] = a! (b-1)! / (a+b)!``."""
    from math import comb

    size = p_max + 1
    ca = np.zeros((size, size))
    cb = np.zeros((size, size))
    for a in range(size):
        for b in range(size):
            if a + b == 0:
                continue
            # (a-1)! b! / (a+b)! = 1 / (a * C(a+b, a)); a! (b-1)! / (a+b)! = 1 / (b * C(a+b, b))
            if a > 0:
                ca[a, b] = 1.0 / (a * comb(a + b, a))
            if b > 0:
                cb[a, b] = 1.0 / (b * comb(a + b, b))
    return ca, cb


@njit(cache=True, inline="always", error_model="numpy")
def _popcount(m):
    c = 0
    while m:
        m &= m - np.uint64(1)
        c += 1
    return c


@njit(nogil=True, cache=True, error_model="numpy")
def interventional_shap(X, leaves, leaf_tree, start, feat, lo, hi, nan_ok, mstart, masks,
                        mweight, value, tree_out, n_out, ca, cb):
    """Interventional SHAP values against the aggregated background, (n, d, n_out)."""
    n, d = X.shape
    L = leaves.shape[0]
    V = value.shape[1]
    phi = np.zeros((n, d, n_out))
    p_max = ca.shape[0] - 1
    for i in range(n):
        x = X[i]
        wa = np.zeros(p_max + 1)
        for leaf in range(L):
            b0 = start[leaf]
            p = start[leaf + 1] - b0
            if p == 0:
                continue
            mx = _mask(x, b0, b0 + p, feat, lo, hi, nan_ok)
            full = (np.uint64(1) << np.uint64(p)) - np.uint64(1)
            b = p - _popcount(mx)
            sb = 0.0
            any_a = False
            for q in range(mstart[leaf], mstart[leaf + 1]):
                mr = masks[q]
                if (mr | mx) != full:
                    continue
                ma = full & ~mr
                a = _popcount(ma)
                if a == 0 and b == 0:
                    continue
                w = mweight[q]
                if b > 0:
                    sb += w * cb[a, b]
                if a > 0:
                    any_a = True
                    wq = w * ca[a, b]
                    bit = 0
                    while ma:
                        if ma & np.uint64(1):
                            wa[bit] += wq
                        ma >>= np.uint64(1)
                        bit += 1
            if sb == 0.0 and not any_a:
                continue
            node = leaves[leaf]
            off = tree_out[leaf_tree[leaf]]
            for q in range(p):
                f = feat[b0 + q]
                inside = (mx >> np.uint64(q)) & np.uint64(1)
                if inside:
                    c = wa[q]
                    wa[q] = 0.0
                else:
                    c = -sb
                if c != 0.0:
                    for j in range(V):
                        phi[i, f, off + j] += c * value[node, j]
    return phi


# ------------------------------------------- interventional TreeSHAP of a transformed output

#: Transforms of the raw margin, as ``transform`` codes of :func:`pair_shap`.
LOGISTIC, LOGISTIC_LOG_LOSS, SQUARED_LOSS = 1, 2, 3


@njit(cache=True, inline="always", error_model="numpy")
def _transform(code, margin, y):
    if code == 1:
        return 1.0 / (1.0 + np.exp(-margin))
    if code == 2:
        # log(1 + exp(m)) - y m, computed without overflow
        if margin > 0:
            return margin + np.log1p(np.exp(-margin)) - y * margin
        return np.log1p(np.exp(margin)) - y * margin
    return (margin - y) * (margin - y)


@njit(nogil=True, cache=True, error_model="numpy")
def pair_shap(X, margin_x, y, B, margin_b, code, left, right, feature, threshold,
              default_left, value, roots, ca, cb, depth_max):
    """Interventional SHAP values of ``g(margin)`` for one-output ensembles, (n, d).

    For every row x and background row r the raw margin's Shapley values of
    the game ``v(S) = f(x_S, r_notS)`` come from one joint walk of each tree
    (a node's children are entered when x or r goes there), and are rescaled
    by ``(g(f(x)) - g(f(r))) / (f(x) - f(r))`` so they add up to
    ``g(f(x)) - g(f(r))``; the result is their mean over r (shap's
    definition). Cost: rows x background rows x visited nodes.
    """
    n, d = X.shape
    nb = B.shape[0]
    phi = np.zeros((n, d))
    D = depth_max + 2
    for i in range(n):
        x = X[i]
        xs = np.ones(d, dtype=np.bool_)
        rs = np.ones(d, dtype=np.bool_)
        seen = np.zeros(d, dtype=np.int64)
        tmp = np.zeros(d)
        plist = np.empty(D, dtype=np.int64)
        node = np.empty(D, dtype=np.int64)
        stage = np.empty(D, dtype=np.int64)
        ef = np.empty(D, dtype=np.int64)
        old_xs = np.empty(D, dtype=np.bool_)
        old_rs = np.empty(D, dtype=np.bool_)
        gx = _transform(code, margin_x[i], y[i])
        for ri in range(nb):
            r = B[ri]
            for t in range(roots.shape[0]):
                root = roots[t]
                if left[root] < 0:
                    continue
                depth = 0
                node[0] = root
                stage[0] = 0
                n_list = 0
                na = 0
                nbb = 0
                while True:
                    nd = node[depth]
                    st = stage[depth]
                    if st == 2 or left[nd] < 0:
                        if left[nd] < 0 and st != 2 and na + nbb > 0:
                            v = value[nd, 0]
                            wa = v * ca[na, nbb]
                            wb = v * cb[na, nbb]
                            for q in range(n_list):
                                f = plist[q]
                                if xs[f] and not rs[f]:
                                    tmp[f] += wa
                                elif rs[f] and not xs[f]:
                                    tmp[f] -= wb
                        if depth == 0:
                            break
                        depth -= 1
                        f = ef[depth]
                        # undo the edge: counts, state, the distinct-feature list
                        if xs[f] != rs[f]:
                            if xs[f]:
                                na -= 1
                            else:
                                nbb -= 1
                        xs[f] = old_xs[depth]
                        rs[f] = old_rs[depth]
                        if xs[f] != rs[f]:
                            if xs[f]:
                                na += 1
                            else:
                                nbb += 1
                        seen[f] -= 1
                        if seen[f] == 0:
                            n_list -= 1
                        continue
                    stage[depth] = st + 1
                    f = feature[nd]
                    thr = threshold[nd]
                    dl = default_left[nd] != 0
                    xv = x[f]
                    x_left = dl if xv != xv else xv <= thr
                    rv = r[f]
                    r_left = dl if rv != rv else rv <= thr
                    go_left = st == 0
                    nx = xs[f] and (x_left == go_left)
                    nr = rs[f] and (r_left == go_left)
                    if not nx and not nr:
                        continue
                    c = left[nd] if go_left else right[nd]
                    ef[depth] = f
                    old_xs[depth] = xs[f]
                    old_rs[depth] = rs[f]
                    if xs[f] != rs[f]:
                        if xs[f]:
                            na -= 1
                        else:
                            nbb -= 1
                    xs[f] = nx
                    rs[f] = nr
                    if nx != nr:
                        if nx:
                            na += 1
                        else:
                            nbb += 1
                    if seen[f] == 0:
                        plist[n_list] = f
                        n_list += 1
                    seen[f] += 1
                    depth += 1
                    node[depth] = c
                    stage[depth] = 0
            gap = margin_x[i] - margin_b[ri]
            scale = 1.0
            if gap != 0.0:
                scale = (gx - _transform(code, margin_b[ri], y[i])) / gap
            for f in range(d):
                phi[i, f] += tmp[f] * scale
                tmp[f] = 0.0
        for f in range(d):
            phi[i, f] /= nb
    return phi
