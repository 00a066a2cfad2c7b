"""Stability of an explanation across seeds: top-k Jaccard, Spearman and Kendall.

LIME's answers change between runs (lime#119, #309, #767); this measures by how
much, and can raise the sampling budget until the top-k features agree at a
requested level (in the spirit of S-LIME, Zhou et al., 2021).
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from whylens._convention import as_numpy, checked_callback
from whylens._validation import check_positive_int, check_random_state
from whylens.errors import InputError, InputTypeError, describe
from whylens.metrics._explain_calls import attribution_rows, check_explain, check_same_shape
from whylens.metrics._result import RandomControl, plain
from whylens.metrics._similarity import kendall, rank_correlation

__all__ = ["StabilityResult", "StabilityWarning", "stability"]

_MEASURES = ("jaccard", "spearman", "kendall")


class StabilityWarning(UserWarning):
    """The largest budget allowed did not reach the requested stability."""


@dataclass(eq=False)
class StabilityResult:
    """How far an explanation agrees with itself across seeds.

    Attributes
    ----------
    jaccard, spearman, kendall : float
        Mean over instances, labels and pairs of seeds of the top-k Jaccard
        index and the Spearman and Kendall (tau-b) rank correlations of the
        attributions. 1.0 for a deterministic method.
    scores : dict of str to ndarray of shape (n, n_labels)
        The three measures per instance and label (mean over pairs).
    random : dict of str to RandomControl
        The measures for random attributions of the same shape.
    k : int
    seeds : list of int
    budget : int or None
        The ``budget_argument`` value the figures were measured at (the one
        the search stopped at with ``threshold``).
    budget_argument : str or None
    threshold : float or None
    reached : bool or None
        Whether the search met ``threshold`` (None without a search).
    history : list of (int, float)
        Each budget tried and its mean top-k Jaccard.
    values : ndarray of shape (n_seeds, n, n_labels, n_features)
        The attributions of every seed at ``budget``.
    """

    jaccard: float
    spearman: float
    kendall: float
    scores: dict[str, np.ndarray]
    random: dict[str, RandomControl]
    k: int
    seeds: list[int]
    budget: int | None = None
    budget_argument: str | None = None
    threshold: float | None = None
    reached: bool | None = None
    history: list[tuple[int, float]] = field(default_factory=list)
    values: np.ndarray | None = None

    def __repr__(self) -> str:
        budget = "" if self.budget is None else f", {self.budget_argument}={self.budget}"
        return (f"StabilityResult(top-{self.k} jaccard={self.jaccard:.3f}, "
                f"spearman={self.spearman:.3f}, kendall={self.kendall:.3f}{budget})")

    def to_dict(self) -> dict[str, Any]:
        """The figures as plain JSON numbers (what ``Explanation.quality`` keeps)."""
        return plain({
            "metric": "stability", "higher_is_better": True, "k": self.k,
            "seeds": list(self.seeds),
            "jaccard": self.jaccard, "spearman": self.spearman, "kendall": self.kendall,
            "random": {m: c.to_dict() for m, c in self.random.items()},
            "budget": self.budget, "budget_argument": self.budget_argument,
            "threshold": self.threshold, "reached": self.reached,
            "history": [list(h) for h in self.history],
        })


def _check_seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, (numbers.Integral, str)) or not isinstance(seeds, (Sequence,
                                                                           np.ndarray)):
        raise InputTypeError(describe(
            "seeds", "a sequence of at least 2 distinct int seeds", seeds,
            "Pass e.g. seeds=range(5): stability compares runs with different seeds."))
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
            raise InputTypeError(describe("seeds", "non-negative int seeds", s))
        out.append(int(s))
    if len(out) < 2 or len(set(out)) != len(out):
        raise InputError(describe(
            "seeds", "at least 2 distinct int seeds", seeds,
            "Pass e.g. seeds=range(5): stability compares runs with different seeds."))
    return out


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean (..., F): the k largest (ties: lower index first)."""
    order = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    out = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(out, order, True, axis=-1)
    return out


def _measures(values: np.ndarray, k: int, absolute: bool) -> dict[str, np.ndarray]:
    """Mean pairwise measures of (n_seeds, ..., F) attributions: each of shape (...)."""
    scores = np.abs(values) if absolute else values
    top = _top_k(scores, k)
    sums = {m: np.zeros(values.shape[1:-1]) for m in _MEASURES}
    pairs = list(itertools.combinations(range(values.shape[0]), 2))
    for i, j in pairs:
        inter = (top[i] & top[j]).sum(axis=-1)
        union = (top[i] | top[j]).sum(axis=-1)
        sums["jaccard"] += inter / union
        sums["spearman"] += rank_correlation(scores[i], scores[j])
        sums["kendall"] += kendall(scores[i], scores[j])
    return {m: s / len(pairs) for m, s in sums.items()}


def _check_budget(name: str, value: Any) -> int:
    return check_positive_int(name, value, minimum=1)


def stability(explain: Any, x: Any, *, seeds: Any = (0, 1, 2, 3, 4), k: int = 5,
              absolute: bool = True, budget: int | None = None,
              budget_argument: str = "num_samples", threshold: float | None = None,
              max_budget: int | None = None, growth: float = 2.0, n_random: int = 5,
              random_state: Any = 0, progress: bool | None = None,
              callback: Any = None) -> StabilityResult:
    """Agreement of an explanation with itself across seeds.

    ``explain(x, random_state=seed)`` is called once per seed; the top-k
    features (by ``|value|``) of every pair of runs are compared by their
    Jaccard index, and the whole attributions by Spearman's and Kendall's
    rank correlation, per instance and label, then averaged.

    With ``threshold``, the sampling budget is searched: ``explain`` is
    called with ``**{budget_argument: b}``, ``b`` starting at ``budget`` and
    multiplied by ``growth`` until the mean top-k Jaccard reaches
    ``threshold`` (or ``max_budget``); the figures are those at the budget it
    stopped at, reported as ``result.budget``. For LIME the budget is
    ``num_samples``; for Kernel SHAP, ``nsamples`` (build the explainer inside
    ``explain``).

    Parameters
    ----------
    explain : callable
        ``explain(x, random_state=seed, [**{budget_argument: b}]) ->
        Explanation or array (n, *feature_shape)``, e.g.
        ``lambda x, random_state, num_samples: LimeTabularExplainer(train,
        random_state=random_state).explain_instance(x, f, num_samples=num_samples)``.
    x : object
        Passed to ``explain`` unchanged.
    seeds : sequence of int, default=(0, 1, 2, 3, 4)
        At least two distinct seeds.
    k : int, default=5
        Size of the top set; at most the number of features.
    absolute : bool, default=True
        Rank features by ``|value|`` (False: by signed value).
    budget : int, optional
        The budget passed as ``budget_argument`` (the search's start with
        ``threshold``); None passes none.
    budget_argument : str, default="num_samples"
    threshold : float in (0, 1], optional
        Mean top-k Jaccard to reach; needs ``budget``.
    max_budget : int, optional
        Largest budget tried (default ``budget * 2**6``).
    growth : float, default=2.0
        Factor between budgets tried (> 1).
    n_random : int, default=5
        Draws of random attributions (of the same shape, as many runs as
        seeds) for the control.
    random_state : int or Generator, default=0
        Seeds the control only (the runs use ``seeds``).
    progress : bool, optional
        A tqdm bar over the calls of ``explain``.
    callback : callable, optional
        ``callback(done, total)`` after each call of ``explain``; returning
        False or raising :class:`~whylens.errors.Cancelled` stops.

    Returns
    -------
    StabilityResult

    Warns
    -----
    StabilityWarning
        ``max_budget`` was reached before ``threshold``.

    Raises
    ------
    InputError, InputTypeError
        Fewer than two distinct seeds, k larger than the number of features
        or not positive, a threshold outside (0, 1] or without a budget, a
        budget search that cannot grow, attributions whose shape changes.
    ModelOutputError
        ``explain`` returned something other than attributions.
    """
    explain = check_explain(explain)
    seeds = _check_seeds(seeds)
    k = check_positive_int("k", k)
    if not isinstance(budget_argument, str) or not budget_argument.isidentifier():
        raise InputTypeError(describe("budget_argument", "a keyword argument name",
                                      budget_argument))
    if budget is not None:
        budget = _check_budget("budget", budget)
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer,
                                                                     np.floating)):
            raise InputTypeError(describe("threshold", "a number in (0, 1]", threshold))
        if not 0 < float(threshold) <= 1:
            raise InputError(describe("threshold", "a number in (0, 1]", threshold))
        threshold = float(threshold)
        if budget is None:
            raise InputError(describe(
                "budget", f"the starting {budget_argument} when threshold is given", None,
                f"Pass e.g. budget=100, budget_argument={budget_argument!r}."))
        max_budget = budget * 64 if max_budget is None else _check_budget("max_budget",
                                                                          max_budget)
        if max_budget < budget:
            raise InputError(describe("max_budget", f"at least budget ({budget})",
                                      max_budget))
        if isinstance(growth, bool) or not isinstance(growth, (int, float)) or not growth > 1:
            raise InputError(describe("growth", "a number > 1", growth))
    n_random = check_positive_int("n_random", n_random, minimum=0)
    callback = checked_callback(callback)

    calls = [0]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(seeds), desc="whylens: stability", leave=False)

    def run(b: int | None) -> np.ndarray:
        out = []
        for seed in seeds:
            kwargs: dict[str, Any] = {"random_state": seed}
            if b is not None:
                kwargs[budget_argument] = b
            result = explain(x, **kwargs)
            values = attribution_rows(result, _rows_of(result))
            values = values.reshape(*values.shape[:2], -1)
            if out:
                check_same_shape(values, out[0], "seed")
            out.append(values)
            calls[0] += 1
            if bar is not None:
                bar.update(1)
            if callback is not None:
                callback(calls[0], calls[0] + len(seeds) - len(out))
        return np.stack(out)

    try:
        history: list[tuple[int, float]] = []
        reached = None
        values = run(budget)
        if k > values.shape[-1]:
            raise InputError(describe("k", f"at most the number of features "
                                      f"({values.shape[-1]})", k))
        measures = _measures(values, k, bool(absolute))
        if threshold is not None:
            assert budget is not None and max_budget is not None
            history.append((budget, float(measures["jaccard"].mean())))
            while history[-1][1] < threshold and budget < max_budget:
                budget = min(max_budget, max(budget + 1, int(np.ceil(budget * growth))))
                if bar is not None:
                    bar.total += len(seeds)
                    bar.refresh()
                values = run(budget)
                measures = _measures(values, k, bool(absolute))
                history.append((budget, float(measures["jaccard"].mean())))
            reached = history[-1][1] >= threshold
            if not reached:
                warnings.warn(StabilityWarning(
                    f"stability: the top-{k} Jaccard reached {history[-1][1]:.3f} at "
                    f"{budget_argument}={budget} (max_budget), below threshold={threshold}. "
                    "Raise max_budget, lower the threshold or k."), stacklevel=2)
    finally:
        if bar is not None:
            bar.close()
    rng = check_random_state(random_state)
    random = {}
    if n_random:
        draws = {m: [] for m in _MEASURES}
        for _ in range(n_random):
            r = _measures(rng.standard_normal(values.shape), k, bool(absolute))
            for m in _MEASURES:
                draws[m].append(float(r[m].mean()))
        random = {m: RandomControl.from_scores(d) for m, d in draws.items()}
    return StabilityResult(
        jaccard=float(measures["jaccard"].mean()), spearman=float(measures["spearman"].mean()),
        kendall=float(measures["kendall"].mean()), scores=measures, random=random, k=k,
        seeds=seeds, budget=budget, budget_argument=None if budget is None else budget_argument,
        threshold=threshold, reached=reached, history=history, values=values)


def _rows_of(result: Any) -> int:
    values = getattr(result, "values", None)
    if values is None or not hasattr(values, "shape"):
        values = as_numpy(result)
    shape = np.shape(values) if isinstance(values, (np.ndarray, list, tuple)) or hasattr(
        values, "shape") else ()
    return int(shape[0]) if len(shape) else 0
