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

from whylens.shap._tree_interventional import (
    LOGISTIC,
    LOGISTIC_LOG_LOSS,
    SQUARED_LOSS,
    background_masks,
    interventional_shap,
    leaf_paths,
    pair_shap,
    shapley_coefficients,
)
from whylens.shap._tree_path import BLOCK, path_interactions, path_shap
from whylens.shap._tree_rows import map_rows, n_threads, predict

__all__ = [
    "BLOCK",
    "LOGISTIC",
    "LOGISTIC_LOG_LOSS",
    "SQUARED_LOSS",
    "background_masks",
    "interventional_shap",
    "leaf_paths",
    "map_rows",
    "n_threads",
    "pair_shap",
    "path_interactions",
    "path_shap",
    "predict",
    "shapley_coefficients",
]
