"""The :class:`Representation` protocol: interpretable features of one instance."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Representation"]


@runtime_checkable
class Representation(Protocol):
    """One instance seen through interpretable features (DESIGN.md's pipeline).

    A perturbation method draws masks ``Z`` of shape (n_samples, n_features)
    over these features; :meth:`apply` turns a chunk of them into model
    inputs, vectorised over the chunk (no Python loop per sample). The
    runner (:func:`whylens.representations.evaluate`) calls it one chunk at a
    time, so memory stays bounded whatever ``n_samples`` is.

    Implemented by :class:`~whylens.representations.TextRepresentation`
    (words or characters), :class:`~whylens.representations.ImageRepresentation`
    (superpixels), :class:`~whylens.representations.TabularRepresentation`
    (table columns over a background) and the token-id representation of
    encoded text.

    Attributes
    ----------
    n_features : int
        Number of interpretable features.
    names : list of str, length n_features
        Their readable names (words, ``"segment 3"``, column names).
    instance : object
        The explained instance as the model takes it (a string, an image, a row).
    """

    @property
    def n_features(self) -> int: ...

    @property
    def names(self) -> list[str]: ...

    @property
    def instance(self) -> Any: ...

    def apply(self, Z: np.ndarray) -> Any:
        """Model inputs of a chunk of masks.

        Parameters
        ----------
        Z : ndarray of shape (n_chunk, n_features)
            1 keeps a feature as in the instance, 0 removes (masks) it.

        Returns
        -------
        batch of model inputs
            ``n_chunk`` rows (or ``n_chunk * k`` for a representation that
            averages over ``k`` background rows per mask), in the layout the
            model takes.
        """
        ...
