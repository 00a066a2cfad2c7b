"""Permutation importance, with groups of features permuted jointly.

Every repeat of a feature (or group) is evaluated in one chunked model call,
merged with the next features' up to ``ROWS_PER_CALL`` rows: the permuted rows
are built chunk by chunk inside :meth:`whylens.models.Model.call_chunked`, so
the model sees few, large batches (scikit-learn calls it once per feature and
repeat). Scorers named after common metrics are computed with numpy over all
repeats at once; any other scorer sees a *replay* stand-in of the model whose
``predict``/``predict_proba``/``decision_function`` return the outputs already
computed, so every scikit-learn scorer, by name or object, and every callable
``scorer(estimator, X, y)`` works unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from whylens._convention import check_batch_size, checked_callback
from whylens._validation import check_positive_int, check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe
from whylens.inspection._arguments import row_count
from whylens.inspection._importance import ImportanceResult
from whylens.inspection._scoring import (
    ReplayToken,
    fast_metrics,
    replay,
    resolve_scoring,
    responses_of,
)
from whylens.inspection._tables import (
    as_table,
    column_index,
    cycled_rows,
    n_rows_of,
    take_rows,
)
from whylens.models._frames import is_dataframe

__all__ = ["permutation_importance"]


# ----------------------------------------------------------------------------- inputs
def _resolve_groups(feature_groups: Any, names: list[str]) -> tuple[list[list[int]], list[str]]:
    if feature_groups is None:
        return [[j] for j in range(len(names))], list(names)
    if isinstance(feature_groups, dict):
        items = list(feature_groups.items())
    elif isinstance(feature_groups, (list, tuple)):
        items = [(None, g) for g in feature_groups]
    else:
        raise InputTypeError(describe(
            "feature_groups", "None, a list of column lists or a dict name -> columns",
            feature_groups))
    if not items:
        raise InputError(describe("feature_groups", "at least one group", feature_groups))
    groups, group_names, owner = [], [], {}
    for position, (name, group) in enumerate(items):
        members = [group] if isinstance(group, (str, int, np.integer)) else group
        try:
            members = list(members)
        except TypeError as exc:
            raise InputTypeError(describe(f"feature_groups[{position}]", "a list of columns",
                                          group)) from exc
        if not members:
            raise InputError(describe(f"feature_groups[{position}]", "at least one column",
                                      group))
        cols = [column_index(c, names, "feature_groups") for c in members]
        for c in cols:
            if c in owner:
                where = owner[c]
                raise InputError(describe(
                    "feature_groups", "groups that do not overlap",
                    got_text=f"column {names[c]!r} in group {where} and in group {position}",
                    fix="Put each column in one group only (it is permuted with its group)."))
            owner[c] = position
        groups.append(cols)
        group_names.append(str(name) if name is not None else "+".join(names[c] for c in cols))
    return groups, group_names


#: Permuted rows of several groups go through one chunked model call up to this many rows
#: (a forest predicts large batches much faster per row; the outputs held are this many rows).
ROWS_PER_CALL = 500_000


class _Permuted:
    """Builds the rows of every repeat of some groups, group after group: row r of repeat t
    of a group is row r with the group's columns taken from row ``perms[t, r]``."""

    def __init__(self, table: Any, perms: np.ndarray, groups: list[list[int]]) -> None:
        self.table, self.perms, self.groups = table, perms, groups
        self.n = perms.shape[1]
        self.block = perms.size  # rows of one group: n_repeats * n
        self.total = self.block * len(groups)

    def __call__(self, start: int, stop: int) -> Any:
        index = np.arange(start, stop)
        within = index % self.block
        rows, donors = within % self.n, self.perms[within // self.n, within % self.n]
        frame = is_dataframe(self.table)
        # the block of every group and repeat is X's rows in order: runs of consecutive rows
        chunk = self.table.iloc[rows].reset_index(drop=True) if frame else cycled_rows(
            self.table, start, stop)
        for g in range(start // self.block, (stop - 1) // self.block + 1):
            lo = max(start, g * self.block) - start
            hi = min(stop, (g + 1) * self.block) - start
            cols = self.groups[g]
            if frame:
                for c in cols:
                    column = chunk.iloc[:, c].to_numpy(copy=True)
                    column[lo:hi] = self.table.iloc[:, c].to_numpy()[donors[lo:hi]]
                    chunk.isetitem(c, column)
            else:
                chunk[lo:hi, cols] = self.table[donors[lo:hi, None], cols]
        return chunk


def _batches(n_groups: int, rows_per_group: int) -> list[list[int]]:
    """Consecutive groups packed into calls of at most ROWS_PER_CALL rows (one at least)."""
    per_call = max(1, ROWS_PER_CALL // rows_per_group)
    return [list(range(g, min(g + per_call, n_groups))) for g in range(0, n_groups, per_call)]


# ----------------------------------------------------------------------------- public
def permutation_importance(
    model: Any,
    X: Any,
    y: Any,
    *,
    scoring: Any = None,
    n_repeats: int = 5,
    feature_groups: Any = None,
    max_samples: int | float | None = None,
    sample_weight: Any = None,
    random_state: Any = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    callback: Callable[[int, int], Any] | None = None,
) -> ImportanceResult:
    """Permutation importance of every feature, or of groups of features permuted jointly.

    The importance of a feature is how much the score drops when its column
    is shuffled (breaking its relation to the target and the other features):
    ``score(X, y) - score(X with the column permuted, y)``, over ``n_repeats``
    permutations. A group's columns are permuted with the same permutation, so
    correlated or duplicated features, which hide each other when permuted
    alone, are measured together.

    All repeats of a feature are evaluated in one chunked model call (rows of
    every repeat stacked, built chunk by chunk), and the calls of consecutive
    features are merged up to :data:`ROWS_PER_CALL` rows, so the model sees a
    few large batches instead of ``n_features * n_repeats`` small ones.

    Parameters
    ----------
    model : fitted scikit-learn estimator or pipeline, callable, torch module, or Model
        A scikit-learn estimator is scored as scikit-learn scores it (its
        ``predict``, ``predict_proba``, ``decision_function`` as the scorer
        asks). Any other model goes through :func:`whylens.models.as_model`:
        an output of one column is a regression's prediction; several columns
        are a classifier's probabilities (when the model says so, or they are
        non-negative rows summing to 1) or decision scores, whose arg max is
        the predicted class (classes: the model's output names, else 0..k-1).
    X : array-like or DataFrame of shape (n_samples, n_features)
        The rows to permute; a DataFrame reaches the model as a DataFrame.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        The targets.
    scoring : str, callable, list of str, dict of str -> str or callable, or None
        As in scikit-learn: a scorer name (``sklearn.metrics.get_scorer_names()``),
        a callable ``scorer(estimator, X, y, sample_weight=None) -> float``
        (greater is better), several names, or a dict of them. ``None``:
        accuracy for a classifier, R² otherwise. Every scorer uses the same
        model outputs. A callable receives a stand-in estimator whose response
        methods return the precomputed outputs; a scikit-learn scorer also
        receives a token for ``X`` instead of the permuted table.
    n_repeats : int, default=5
        Permutations per feature.
    feature_groups : list of lists, or dict of str -> list, optional
        Columns (indices or names) permuted together; one importance per
        group, named by the dict's keys or the columns joined by ``+``.
        Groups must not overlap; columns in no group are not measured.
        ``None``: every column on its own.
    max_samples : int or float, optional
        Rows to use (a count, or a fraction of ``n_samples``), drawn once
        without replacement and used for the baseline score and every
        permutation. The rows used are in ``result.sample_indices``.
    sample_weight : array-like of shape (n_samples,), optional
        Passed to the scorers.
    random_state : None, int or numpy.random.Generator
        Seeds the rows drawn and the permutations (the same permutations
        serve every feature, as in scikit-learn).
    batch_size : int, optional
        Rows per model call; ``None`` sizes the chunks from the memory budget.
    progress : bool, optional
        A progress bar over all model evaluations (default: when stderr is a
        terminal).
    callback : callable, optional
        ``callback(done, total)`` after every chunk (rows evaluated, over all
        features and response methods); raising
        :class:`~whylens.errors.Cancelled` or returning ``False`` stops the work.

    Returns
    -------
    ImportanceResult
        ``mean``/``std`` of shape (n_scorers, n_features), ``raw`` of shape
        (n_scorers, n_features, n_repeats), ``names``, ``baseline``; with one
        scorer also scikit-learn's ``importances_mean``, ``importances_std``
        and ``importances``.

    Raises
    ------
    InputError
        ``y`` or ``sample_weight`` whose length is not ``n_samples``,
        overlapping or unknown groups, an unknown scorer name, ``n_repeats``
        < 1, ``max_samples`` out of range, an unfitted estimator.
    InputTypeError
        Arguments of the wrong type.
    ModelError, ModelOutputError
        The model raised or returned unusable output.
    Cancelled
        The callback stopped the work.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from whylens.inspection import permutation_importance
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)); y = X @ [2.0, 1.0, 0.0]
    >>> r = permutation_importance(LinearRegression().fit(X, y), X, y,
    ...                            scoring="neg_mean_squared_error", random_state=0)
    >>> r.ranking()  # 2·coef²·var: about 8, 2 and 0
    ['x0', 'x1', 'x2']
    >>> r.importances.shape  # (n_features, n_repeats)
    (3, 5)
    """
    n_repeats = check_positive_int("n_repeats", n_repeats)
    batch_size = check_batch_size(batch_size)
    user_callback = checked_callback(callback)
    table, names = as_table(X)
    n = n_rows_of(table)
    if y is None:
        raise InputError(describe("y", f"{n} targets (one per row of X)", y))
    y_array = y if hasattr(y, "iloc") else np.asarray(y)
    if y_array.ndim == 0 or n_rows_of(y_array) != n:
        raise InputError(describe("y", f"one target per row of X ({n})",
                                  got_text=f"{n_rows_of(y_array) if y_array.ndim else 0} targets",
                                  fix="Pass the targets of exactly the rows in X."))
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (n,):
            raise InputError(describe("sample_weight", f"shape ({n},)",
                                      got_text=f"shape {sample_weight.shape}"))
    groups, group_names = _resolve_groups(feature_groups, names)
    rng = check_random_state(random_state)
    m = row_count(max_samples, n, "max_samples", at_most_n=True)
    sample_indices = None if m == n else np.sort(rng.choice(n, size=m, replace=False))
    rows = np.arange(n) if sample_indices is None else sample_indices
    data = take_rows(table, rows)
    if is_dataframe(data):
        data = data.reset_index(drop=True)
    else:
        data = np.array(data, copy=True)
    y_used = take_rows(y_array, rows)
    weight = None if sample_weight is None else sample_weight[rows]
    perms = np.stack([rng.permutation(m) for _ in range(n_repeats)])

    responses = responses_of(model, batch_size, take_rows(data, np.arange(min(m, 8))))
    scorers, metric_names = resolve_scoring(scoring, classifier=responses.classifier)
    fast = fast_metrics(metric_names, responses, y_used)
    y_fast = np.asarray(y_used) if fast else None

    # baseline: the scorers on the rows as they are, recording the methods they use
    used: list[str] = list(dict.fromkeys(method for method, _ in fast.values()))
    base_outputs: dict[str, np.ndarray] = {}

    def respond_base(method: str, X_: Any) -> Any:
        source = responses.method_source[method]
        if source not in base_outputs:
            base_outputs[source] = responses.sources[source](data, progress=False)
        if method not in used:
            used.append(method)
        return responses.decoders[method](base_outputs[source])

    baseline = np.empty(len(scorers))
    for s, (name, scorer) in enumerate(scorers.items()):
        if name in fast:
            method, fn = fast[name]
            baseline[s] = fn(respond_base(method, None)[None], y_fast, weight)[0]
        else:
            baseline[s] = _score(scorer, replay(responses, respond_base), data, y_used, weight,
                                 name)
    sources = list(dict.fromkeys(responses.method_source[mth] for mth in used))

    total = len(groups) * len(sources) * n_repeats * m
    bar = _progress_bar(progress, total)
    done = [0]

    def report(part_done: int, part_total: int) -> None:
        if bar is not None:
            bar.update(done[0] + part_done - bar.n)
        if user_callback is not None:
            user_callback(done[0] + part_done, total)

    raw = np.empty((len(scorers), len(groups), n_repeats))
    block = n_repeats * m
    try:
        for batch in _batches(len(groups), block):
            build_all = _Permuted(data, perms, [groups[g] for g in batch])
            together = {}
            for source in sources:  # every repeat of every group of the batch: one call
                together[source] = responses.sources[source].call_chunked(
                    build_all.total, build_all, sample=build_all(0, 1), progress=False,
                    callback=report)
                done[0] += build_all.total
            for slot, g in enumerate(batch):
                outputs = {source: out[slot * block:(slot + 1) * block]
                           for source, out in together.items()}
                self_scored = _Permuted(data, perms, [groups[g]])
                _score_group(raw[:, g], scorers, fast, baseline, outputs, responses,
                             self_scored, y_used, y_fast, weight)
    finally:
        if bar is not None:
            bar.close()
    n_evals = m * (len(sources) + total // m) if sources else 0
    return ImportanceResult(
        method="permutation", scorers=list(scorers), names=group_names,
        mean=raw.mean(axis=2), std=raw.std(axis=2), raw=raw, baseline=baseline,
        groups=groups, n_samples=n, sample_indices=sample_indices,
        params={"n_repeats": n_repeats, "max_samples": max_samples,
                "random_state": random_state_param(random_state),
                "scoring": list(scorers), "batch_size": batch_size,
                "response_methods": used},
        n_evals=int(n_evals))


def _score_group(raw: np.ndarray, scorers: dict[str, Callable[..., Any]],
                 fast: dict[str, Any], baseline: np.ndarray, outputs: dict[str, np.ndarray],
                 responses: Any, build: _Permuted, y: Any, y_fast: Any, weight: Any) -> None:
    """Importance per scorer and repeat of one group into ``raw`` (n_scorers, n_repeats)."""
    n_repeats, m = build.perms.shape
    for s, name in enumerate(scorers):
        if name in fast:  # every repeat at once
            method, fn = fast[name]
            decoded = responses.decoders[method](outputs[responses.method_source[method]])
            stacked = decoded.reshape(n_repeats, m, *decoded.shape[1:])
            raw[s] = baseline[s] - fn(stacked, y_fast, weight)
    if all(name in fast for name in scorers):
        return
    for t in range(n_repeats):
        def respond(method: str, X_: Any, t: int = t) -> Any:
            source = responses.method_source[method]
            if source not in outputs:  # a method the baseline did not use
                outputs[source] = responses.sources[source].call_chunked(
                    build.total, build, sample=build(0, 1), progress=False)
            return responses.decoders[method](outputs[source][t * m:(t + 1) * m])

        stand_in = replay(responses, respond)
        for s, (name, scorer) in enumerate(scorers.items()):
            if name in fast:
                continue
            X_t = (ReplayToken(m) if type(scorer).__module__.startswith("sklearn.")
                   else build(t * m, (t + 1) * m))
            raw[s, t] = baseline[s] - _score(scorer, stand_in, X_t, y, weight, name)


def _progress_bar(progress: bool | None, total: int) -> Any:
    if total and (progress or (progress is None and sys.stderr.isatty())):
        from tqdm.auto import tqdm

        return tqdm(total=total, desc="whylens: permutation importance", unit="rows",
                    leave=False)
    return None


def _score(scorer: Callable[..., Any], estimator: Any, X: Any, y: Any, weight: Any,
           name: str) -> float:
    value = scorer(estimator, X, y) if weight is None else scorer(estimator, X, y,
                                                                  sample_weight=weight)
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(describe(f"scoring[{name!r}]", "a scorer returning one number",
                                      value, "For several metrics pass a list or a dict of "
                                      "scorers.")) from exc
