"""numba kernels of :class:`whylens.shap.TreeExplainer` (imported only when it is used).

An ensemble is a set of flat arrays over all nodes of all trees (see
:class:`whylens.shap._tree_models.FlatEnsemble`): ``left``/``right`` child
indices (-1 at leaves), ``feature``, ``threshold`` (go left when
``x <= threshold``), ``default_left`` (where NaN goes), ``cover`` (training
weight reaching the node), ``value`` (n_nodes, V) leaf values already scaled
by the tree's weight, ``roots`` and ``tree_out`` (tree t adds its V values to
outputs ``tree_out[t] : tree_out[t] + V``).

Path-dependent TreeSHAP
-----------------------
For one leaf with unique path features P, the path-dependent value function
is the product game ``v(S) = value * prod_{j in P} (o_j if j in S else z_j)``
where ``o_j`` is 1 when x satisfies all of the path's conditions on feature j
and ``z_j`` the product of the cover ratios of those edges. Its Shapley
values have the integral form (the Beta integral gives the Shapley weights)

    phi_i = value * (o_i - z_i) * Int_0^1 prod_{j != i} (z_j + t (o_j - z_j)) dt.

The integrand is a polynomial of degree < |P|, so Gauss-Legendre quadrature
with ceil(depth / 2) nodes is exact. Holding, at every node, the product at
the quadrature nodes and returning from every subtree the sum over its leaves
of ``value * product`` gives all features' values in one depth-first pass:
O(n_nodes * K) per row and tree instead of the O(n_leaves * depth^2) of the
original algorithm (the idea of Linear TreeSHAP, Yu et al. 2022). A feature
met again deeper on a path is handled by dividing out its earlier factor and
charging each leaf to the deepest edge of that feature above it.

Interventional TreeSHAP
-----------------------
For a reference row r, only leaves whose every path feature is satisfied by
x or by r count; with A the features only x satisfies and B those only r
satisfies, the Shapley values are ``value * (|A|-1)! |B|! / (|A|+|B|)!`` for
i in A and ``-value * |A|! (|B|-1)! / (|A|+|B|)!`` for i in B. They depend on
r only through the bit mask of path features r satisfies, so the background
is reduced once to the distinct masks per leaf with their counts and each
row costs the number of distinct masks, not the number of background rows.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

# ------------------------------------------------------------------------- threads


def n_threads(n_jobs):
    """Threads for ``n_jobs`` (None or -1: every core this process may use)."""
    if n_jobs is None or n_jobs == -1:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - macOS, Windows
            return max(1, os.cpu_count() or 1)
    return max(1, int(n_jobs))


def _spans(n, threads, align):
    """Split range(n) into about 4 chunks per thread, boundaries multiples of ``align``."""
    if threads <= 1 or n <= align:
        return [(0, n)]
    size = -(-n // (4 * threads))
    size = max(align, -(-size // align) * align)
    return [(a, min(n, a + size)) for a in range(0, n, size)]


def _in_threads(fn, spans, n_jobs):
    """Run ``fn(lo, hi)`` for every span; the kernels release the GIL (``nogil``)."""
    threads = n_threads(n_jobs)
    if threads <= 1 or len(spans) <= 1:
        return [fn(a, z) for a, z in spans]
    with ThreadPoolExecutor(max_workers=min(threads, len(spans))) as pool:
        return list(pool.map(lambda span: fn(*span), spans))


def map_rows(kernel, X, args, n_jobs=None, per_row=(), align=8):
    """``kernel(X[lo:hi], *per_row[lo:hi], *args)`` over row chunks in threads, stacked."""
    n = X.shape[0]
    spans = _spans(n, n_threads(n_jobs), align)
    parts = _in_threads(lambda a, z: kernel(X[a:z], *[r[a:z] for r in per_row], *args),
                        spans, n_jobs)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


# ----------------------------------------------------------------------- prediction


@njit(cache=True, inline="always", error_model="numpy")
def _leaf_of(x, root, left, right, feature, threshold, default_left):
    n = root
    while left[n] >= 0:
        xv = x[feature[n]]
        if xv != xv:
            go_left = default_left[n] != 0
        else:
            go_left = xv <= threshold[n]
        n = left[n] if go_left else right[n]
    return n


@njit(nogil=True, cache=True, error_model="numpy")
def predict(X, left, right, feature, threshold, default_left, value, roots, tree_out, n_out):
    """Sum of the trees' leaf values, (n, n_out)."""
    n = X.shape[0]
    V = value.shape[1]
    out = np.zeros((n, n_out))
    for i in range(n):
        for t in range(roots.shape[0]):
            leaf = _leaf_of(X[i], roots[t], left, right, feature, threshold, default_left)
            off = tree_out[t]
            for j in range(V):
                out[i, off + j] += value[leaf, j]
    return out


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
    spans = _spans(L, n_threads(n_jobs), 1)
    _in_threads(lambda a, z: _count_masks(B, start, feat, lo, hi, nan_ok, a, z, n_distinct),
                spans, n_jobs)
    mstart = np.zeros(L + 1, dtype=np.int64)
    np.cumsum(n_distinct, out=mstart[1:])
    out_mask = np.empty(mstart[-1], dtype=np.uint64)
    out_weight = np.empty(mstart[-1])
    _in_threads(lambda a, z: _fill_masks(B, weights, start, feat, lo, hi, nan_ok, mstart,
                                         out_mask, out_weight, a, z), spans, n_jobs)
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
