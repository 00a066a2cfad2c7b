"""The result records of accumulated local effects: one :class:`ALEEffect` per feature
or pair, gathered in an :class:`ALEResult` (with its JSON round trip)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from whylens._serialize import decode, encode
from whylens.errors import InputError, describe
from whylens.inspection._results import InspectionResult

__all__ = ["ALE_FORMAT", "ALEEffect", "ALEResult"]

#: The ``"format"`` entry of an ALE result document.
ALE_FORMAT = "whylens.ALEResult/1"


@dataclass(eq=False)
class ALEEffect:
    """The accumulated local effect of one feature or one pair.

    Attributes
    ----------
    features : tuple of str
        One name (1-D) or two (2-D).
    columns : tuple of int
        Their column indices in ``X``.
    kind : {"continuous", "categorical", "interaction"}
        ``"interaction"`` is a 2-D effect of two continuous features.
    grid : list of ndarray
        Continuous: the bin edges, shape (K + 1,). Categorical: the categories
        in the similarity order used, shape (K,). Interaction: both edge arrays.
    values : ndarray
        Centred effects at the grid, shape (n_targets, n_grid) in 1-D and
        (n_targets, K1 + 1, K2 + 1) in 2-D (the pure second-order effect).
    counts : ndarray
        Rows per bin (K,), per category (K,) or per cell (K1, K2).
    lower, upper : ndarray, optional
        Bootstrap percentile band at ``confidence``, shaped like ``values``.
    std : ndarray, optional
        Bootstrap standard deviation, shaped like ``values``.
    deciles : list of ndarray
        Deciles of each feature in ``X`` (for a rug under a curve).
    """

    features: tuple[str, ...]
    columns: tuple[int, ...]
    kind: str
    grid: list[np.ndarray]
    values: np.ndarray
    counts: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    std: np.ndarray | None = None
    deciles: list[np.ndarray] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The feature name, or ``"a x b"`` for a pair."""
        return " x ".join(self.features)


@dataclass(eq=False)
class ALEResult(InspectionResult):
    """Accumulated local effects of several features, for one or more model outputs.

    Attributes
    ----------
    effects : list of ALEEffect
        One per requested feature or pair, in the order asked.
    targets : list of int
        The model outputs whose effects ``values[t]`` hold.
    target_names : list of str
        Their names (the model's output names, else the indices).
    feature_names : list of str
        Names of every column of ``X``.
    confidence : float
        Level of the bootstrap bands.
    n_evals : int
        Model evaluations (rows) spent.
    params : dict
        The arguments that reproduce the result, ``random_state`` included.
    """

    FORMAT: ClassVar[str] = ALE_FORMAT

    effects: list[ALEEffect]
    targets: list[int]
    target_names: list[str]
    feature_names: list[str]
    confidence: float = 0.95
    n_evals: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.effects)

    def __iter__(self) -> Any:
        return iter(self.effects)

    def __getitem__(self, key: int | str | tuple[str, str]) -> ALEEffect:
        """The effect at position ``key``, or of the feature (or pair) named ``key``.

        Raises
        ------
        InputError
            No such effect.
        """
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            if -len(self.effects) <= key < len(self.effects):
                return self.effects[int(key)]
        else:
            wanted = (str(key),) if isinstance(key, str) else tuple(str(k) for k in key)
            for effect in self.effects:
                if effect.features == wanted:
                    return effect
        raise InputError(describe("key", "a position or one of the features "
                                  f"{[e.features for e in self.effects]}", key))

    def __repr__(self) -> str:
        return (f"ALEResult(effects={[e.name for e in self.effects]}, targets={self.targets}, "
                f"n_evals={self.n_evals})")

    def _encode_field(self, name: str, value: Any) -> Any:
        return encode(value, (ALEEffect,))

    @classmethod
    def _decode_field(cls, name: str, raw: Any) -> Any:
        value = decode(raw)
        return [ALEEffect(**e) for e in value] if name == "effects" else value

