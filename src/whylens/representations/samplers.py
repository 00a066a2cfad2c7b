"""The mask samplers of the perturbation methods, in one place.

- LIME text: :func:`sample_text_masks` (remove a uniform number of distinct words);
- LIME images: :func:`sample_image_masks` (each superpixel on with probability 1/2);
- LIME tables: :class:`~whylens.representations.tabular.TabularSampler` (bins and
  categories from training frequencies, values from truncated normals), which
  draws the masks together with the rows they stand for;
- SHAP: the coalition designs of Kernel SHAP (``sample_kernel_coalitions``),
  the enumeration of Exact SHAP (``exact_masks``) and the antithetic orders of
  Permutation SHAP (``permutation_orders``) stay in :mod:`whylens.shap._solvers`,
  each beside the solver that needs its weights; importing them here would make
  every LIME import load all of ``whylens.shap``.

Every sampler draws from a numpy Generator only, so the same ``random_state``
gives the same masks.
"""

from __future__ import annotations

import numpy as np

from whylens.representations.tabular import TabularSampler

__all__ = ["TabularSampler", "sample_image_masks", "sample_text_masks"]


def sample_text_masks(n_features: int, num_samples: int, rng: np.random.Generator
                      ) -> np.ndarray:
    """LIME's text masks: row 0 keeps everything; each other row removes a
    uniformly drawn number (1..n_features) of distinct features.

    Returns
    -------
    ndarray of float64, shape (num_samples, n_features), entries 0/1
    """
    n_remove = rng.integers(1, n_features + 1, size=num_samples - 1)
    # The features with the n_remove smallest of a row's uniform keys are
    # removed: keys above the row's n_remove-th smallest are kept (a sort of
    # the keys, no argsort or scatter; continuous keys do not tie).
    keys = rng.random((num_samples - 1, n_features))
    threshold = np.sort(keys, axis=1)[np.arange(num_samples - 1), n_remove - 1]
    Z = np.ones((num_samples, n_features))
    np.greater(keys, threshold[:, None], out=Z[1:])
    return Z


def sample_image_masks(n_features: int, num_samples: int, rng: np.random.Generator
                       ) -> np.ndarray:
    """lime's image masks: each superpixel on with probability 1/2; row 0 all on.

    Returns
    -------
    ndarray of float64, shape (num_samples, n_features), entries 0/1
    """
    Z = rng.integers(0, 2, size=(num_samples, n_features)).astype(np.float64)
    Z[0] = 1.0
    return Z
