"""The records the metrics return: a score beside its random control."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MetricResult", "RandomControl", "plain"]


def plain(value: Any) -> Any:
    """``value`` as plain JSON (floats, ints, lists, dicts); NaN and infinity become None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return repr(value)


@dataclass(eq=False)
class RandomControl:
    """The same metric for random attributions of the same shape (chance level).

    Attributes
    ----------
    mean : float
        Mean over the draws of the metric's score.
    std : float
        Standard deviation over the draws (0 for one draw).
    scores : ndarray of shape (n_draws,)
        The score of every draw (each a mean over instances and labels).
    """

    mean: float
    std: float
    scores: np.ndarray

    @classmethod
    def from_scores(cls, scores: Any) -> RandomControl:
        """Build from the per-draw scores."""
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        return cls(mean=float(scores.mean()), std=float(scores.std()), scores=scores)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON numbers."""
        return plain({"mean": self.mean, "std": self.std, "n_draws": int(self.scores.size)})


@dataclass(eq=False)
class MetricResult:
    """One trust figure of an explanation, read against its random control.

    Attributes
    ----------
    metric : str
        ``"deletion"``, ``"insertion"``, ``"faithfulness_correlation"``,
        ``"infidelity"`` or ``"sensitivity_max"``.
    score : float
        Mean of ``scores`` over instances and labels.
    scores : ndarray of shape (n_instances, n_labels)
        The metric per explained instance and label.
    higher_is_better : bool
        Direction of the metric.
    random : RandomControl or None
        The same metric for random attributions of the same shape.
    curves : ndarray of shape (n_instances, n_labels, steps + 1), optional
        Deletion / insertion: the model's output after each step.
    fractions : ndarray of shape (steps + 1,), optional
        Deletion / insertion: fraction of the features removed (inserted) at
        each step, the curves' x axis.
    params : dict
        The arguments that define the figure (baseline, steps, seeds ...).
    n_evals : int
        Model evaluations (rows) spent, the control's included.
    extras : dict
        Arrays particular to a metric (infidelity's ``"perturbations"``, of
        shape (n, n_samples, n_features)); not part of :meth:`to_dict`.
    """

    metric: str
    score: float
    scores: np.ndarray
    higher_is_better: bool
    random: RandomControl | None = None
    curves: np.ndarray | None = None
    fractions: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    n_evals: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def vs_random(self) -> float | None:
        """How far the score beats chance: ``score - random.mean``, sign-flipped
        when lower is better (so > 0 always means better than random)."""
        if self.random is None:
            return None
        gap = self.score - self.random.mean
        return gap if self.higher_is_better else -gap

    def __repr__(self) -> str:
        chance = "" if self.random is None else (
            f", random={self.random.mean:.4g}±{self.random.std:.2g}")
        return f"MetricResult({self.metric}={self.score:.4g}{chance})"

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON numbers (what ``Explanation.quality`` keeps).

        Returns
        -------
        dict
            ``metric``, ``score``, ``higher_is_better``, ``random`` (mean, std,
            n_draws) and ``vs_random``, and the scalar ``params``.
        """
        params = {k: v for k, v in self.params.items()
                  if v is None or isinstance(v, (str, bool, int, float, np.integer,
                                                 np.floating))}
        return plain({
            "metric": self.metric, "score": self.score,
            "higher_is_better": self.higher_is_better,
            "random": None if self.random is None else self.random.to_dict(),
            "vs_random": self.vs_random, "params": params, "n_evals": self.n_evals,
        })
