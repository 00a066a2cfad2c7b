"""The importance record and impurity importance.

:class:`ImportanceResult` holds importances with their spread for one or
several scorers; :func:`~whylens.inspection.permutation_importance` and
:func:`impurity_importance` (the trees' own mean decrease in impurity, free to
compute and biased) both return one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from whylens._validation import check_names
from whylens.errors import InputError, InputTypeError, describe
from whylens.inspection._results import InspectionResult

__all__ = ["ImportanceResult", "impurity_importance"]


# ----------------------------------------------------------------------------- the result
@dataclasses.dataclass
class ImportanceResult(InspectionResult):
    """Feature importances with their spread over repeats, for one or several scorers.

    Attributes
    ----------
    method : str
        ``"permutation"`` or ``"impurity"``.
    scorers : list of str
        The scorers' names (``["impurity"]`` for impurity importance).
    names : list of str
        One name per feature or group (a group's name joins its columns with ``+``
        unless it was named).
    mean : ndarray of shape (n_scorers, n_features)
        Mean importance: the score of the rows as they are minus the score with
        the feature permuted, averaged over the repeats (for impurity, the
        ensemble's ``feature_importances_``).
    std : ndarray of shape (n_scorers, n_features)
        Standard deviation over the repeats (over the trees, for impurity).
    raw : ndarray of shape (n_scorers, n_features, n_repeats)
        Importance per repeat (per tree, for impurity).
    baseline : ndarray of shape (n_scorers,)
        Score of the unpermuted rows (NaN for impurity).
    groups : list of list of int
        The columns of each feature or group.
    n_samples : int
        Rows given.
    sample_indices : ndarray of int or None
        Rows used (``max_samples``); None when all were used.
    params : dict
        The arguments that reproduce the result (``random_state`` included).
    n_evals : int
        Model evaluations (rows), per response method used.
    """

    FORMAT = "whylens.ImportanceResult/1"

    method: str
    scorers: list[str]
    names: list[str]
    mean: np.ndarray
    std: np.ndarray
    raw: np.ndarray
    baseline: np.ndarray
    groups: list[list[int]]
    n_samples: int
    sample_indices: np.ndarray | None
    params: dict[str, Any]
    n_evals: int

    def __getitem__(self, scorer: str | int) -> ImportanceResult:
        """The result of one scorer (by name or position)."""
        if isinstance(scorer, str):
            if scorer not in self.scorers:
                raise InputError(describe("scorer", f"one of {self.scorers}", scorer))
            index = self.scorers.index(scorer)
        elif isinstance(scorer, (int, np.integer)) and -len(self.scorers) <= scorer < len(
                self.scorers):
            index = int(scorer) % len(self.scorers)
        else:
            raise InputError(describe("scorer", f"a name in {self.scorers} or a position",
                                      scorer))
        s = slice(index, index + 1)
        return dataclasses.replace(self, scorers=[self.scorers[index]], mean=self.mean[s],
                                   std=self.std[s], raw=self.raw[s], baseline=self.baseline[s])

    def _single(self, what: str) -> int:
        if len(self.scorers) != 1:
            raise InputError(describe(
                "result", f"one scorer for .{what}", got_text=f"{len(self.scorers)} scorers "
                f"{self.scorers}", fix=f"Select one first: result[{self.scorers[0]!r}].{what}, "
                "or read .mean/.std/.raw (scorer first)."))
        return 0

    @property
    def importances_mean(self) -> np.ndarray:
        """ndarray of shape (n_features,): the mean of the one scorer (scikit-learn's name)."""
        return self.mean[self._single("importances_mean")]

    @property
    def importances_std(self) -> np.ndarray:
        """ndarray of shape (n_features,): the std of the one scorer (scikit-learn's name)."""
        return self.std[self._single("importances_std")]

    @property
    def importances(self) -> np.ndarray:
        """ndarray of shape (n_features, n_repeats) of the one scorer (scikit-learn's name)."""
        return self.raw[self._single("importances")]

    def ranking(self, scorer: str | int = 0) -> list[str]:
        """Names from the most to the least important for ``scorer``."""
        one = self[scorer]
        return [one.names[i] for i in np.argsort(-one.mean[0], kind="stable")]


def impurity_importance(model: Any) -> ImportanceResult:
    """Mean decrease in impurity of a fitted tree ensemble (``feature_importances_``).

    Free to compute (the trees recorded it while training), but biased: it
    is measured on the training data, so it rewards what the trees overfit,
    and it favours high-cardinality features (continuous columns, IDs, many
    categories), which offer more split points and so more chances to
    decrease impurity by chance, even when they carry no signal. Prefer
    :func:`permutation_importance` on held-out data to rank features.

    Parameters
    ----------
    model : fitted tree or tree ensemble, or a pipeline ending in one
        Anything with ``feature_importances_`` (random forests, extra trees,
        gradient boosting, decision trees); the spread is over its
        ``estimators_`` when it has them.

    Returns
    -------
    ImportanceResult
        ``method="impurity"``, ``scorers=["impurity"]``; ``mean`` of shape
        (1, n_features), ``std`` and ``raw`` (1, n_features, n_trees) over the
        trees (``raw`` has one column, zero ``std``, for a single tree).

    Raises
    ------
    InputTypeError
        A model without ``feature_importances_``.
    InputError
        An unfitted model.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(type(final), "feature_importances_"):
        raise InputTypeError(describe(
            "model", "a fitted tree ensemble with feature_importances_", got_text=f"a "
            f"{type(final).__name__}", fix="Use permutation_importance for other models."))
    try:
        mean = np.asarray(final.feature_importances_, dtype=np.float64)
    except Exception as exc:  # NotFittedError and the like
        raise InputError(describe("model", "a fitted estimator", got_text=f"an unfitted "
                                  f"{type(final).__name__} ({exc})",
                                  fix="Call .fit(X, y) first.")) from exc
    trees = getattr(final, "estimators_", None)
    per_tree = []
    if trees is not None:
        for tree in np.asarray(trees, dtype=object).ravel():
            values = getattr(tree, "feature_importances_", None)
            if values is not None:
                per_tree.append(np.asarray(values, dtype=np.float64))
    raw = np.stack(per_tree, axis=1) if per_tree else mean[:, None]
    names = _model_feature_names(model, final, mean.size)
    return ImportanceResult(
        method="impurity", scorers=["impurity"], names=names, mean=mean[None],
        std=raw.std(axis=1)[None], raw=raw[None], baseline=np.array([np.nan]),
        groups=[[j] for j in range(mean.size)], n_samples=0, sample_indices=None,
        params={"model": type(final).__name__}, n_evals=0)


def _model_feature_names(model: Any, final: Any, d: int) -> list[str]:
    names = getattr(final, "feature_names_in_", None)
    if names is None and hasattr(model, "steps") and len(model.steps) > 1:
        try:
            names = model[:-1].get_feature_names_out()
        except Exception:  # transformers without feature names
            names = None
    if names is None or len(names) != d:
        return check_names("feature_names", None, d, "x")
    return [str(v) for v in names]
