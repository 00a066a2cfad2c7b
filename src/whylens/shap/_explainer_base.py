"""The base of Exact, Kernel and Permutation SHAP: :class:`ShapExplainer`.

It validates the rows, evaluates coalitions through the runner (a design
shared by the rows of a table, or one :class:`~whylens.shap._maskers.Game`
per instance), applies ``target`` and builds the Explanation; subclasses
supply the solver (:meth:`ShapExplainer._plan`/``_finish`` and
:meth:`ShapExplainer._solve`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import ALL, check_batch_size, checked_callback
from whylens._validation import check_names, check_random_state, random_state_param
from whylens.errors import InputError, describe
from whylens.explanation import Explanation, Features
from whylens.models import DEFAULT_MEMORY_BUDGET, as_model
from whylens.shap._maskers import (
    Game,
    ImageMasker,
    Progress,
    TabularMasker,
    TextMasker,
)
from whylens.shap._target import select_target, shap_layout

#: Coalitions per row up to which the rows of a table share one design and model calls.
SHARED_CALLS_MAX = 1 << 16

__all__ = ["SHARED_CALLS_MAX", "EfficiencyWarning", "ShapExplainer"]


class EfficiencyWarning(UserWarning):
    """Shapley values that do not sum to output minus base value (numerical trouble)."""


def _as_masker(masker: Any, feature_names: Sequence[str] | None) -> Any:
    if isinstance(masker, (TabularMasker, TextMasker, ImageMasker)) or (
        hasattr(masker, "representation") and hasattr(masker, "kind")
    ):
        return masker
    if masker is None:
        raise InputError(
            describe("masker", "a background table (n_rows, n_features) or a whylens masker",
                     None, "Pass e.g. X_train[:100], whylens.shap.summarize_background(X, 10) "
                     "or whylens.shap.TextMasker().")
        )
    return TabularMasker(masker, feature_names=feature_names)


def _batch_size(batch_size: Any, chunk_size: Any) -> int | None:
    """``batch_size``, or shap-era ``chunk_size`` (an alias; both given must agree)."""
    if chunk_size is not None:
        warnings.warn("chunk_size= is deprecated: pass batch_size= (rows per model call), the "
                      "name every whylens explainer uses.", DeprecationWarning, stacklevel=4)
        if batch_size is not None and batch_size != chunk_size:
            raise InputError(describe("chunk_size", f"the same as batch_size={batch_size!r} "
                                      "or None (chunk_size is batch_size's old name)",
                                      chunk_size, "Pass batch_size only."))
        batch_size = chunk_size
    return check_batch_size(batch_size, "chunk_size" if chunk_size is not None
                            else "batch_size")


LINKS = ("identity", "logit")

#: Probabilities are clipped to [eps, 1 - eps] before the logit (a forest's 0 and 1 would be
#: infinite).
LOGIT_EPS = 1e-12


def check_link(link: Any) -> str:
    """Return ``link`` if it is one of :data:`LINKS`, else raise :class:`InputError`."""
    if not isinstance(link, str) or link not in LINKS:
        raise InputError(describe("link", f"one of {list(LINKS)}", link,
                                  "shap's link objects map to these names: "
                                  "shap.links.logit -> 'logit'."))
    return link


def apply_link(link: str, values: np.ndarray) -> np.ndarray:
    """``values`` through the link (identity, or logit of clipped probabilities)."""
    if link == "identity":
        return values
    p = np.clip(np.asarray(values, dtype=np.float64), LOGIT_EPS, 1.0 - LOGIT_EPS)
    return np.log(p) - np.log1p(-p)


class _LinkedGame:
    """A game whose coalition values go through the link (after the background average)."""

    def __init__(self, game: Any, link: str) -> None:
        self._game = game
        self._link = link

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        return apply_link(self._link, self._game(Z))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._game, name)


class ShapExplainer:
    """Base of the game-based SHAP explainers (one override point: ``_solve``).

    Parameters
    ----------
    model : callable, scikit-learn estimator or torch module
        Anything :func:`whylens.models.as_model` accepts; a scikit-learn
        classifier is explained through ``predict_proba``.
    masker : array-like, DataFrame, TabularMasker, TextMasker or ImageMasker
        A background table (wrapped in :class:`TabularMasker`, summarised by
        k-means past 100 rows) or a masker. With a DataFrame the model is
        called with DataFrames of its columns and dtypes, and the feature
        names default to the columns.
    feature_names : sequence of str, optional
        Names of the table's columns (default: the masker's).
    output_names : sequence of str, optional
        Names of the model's outputs (what ``target`` may name).
    batch_size : int, optional
        Most rows per model call (``None``: from ``memory_budget``). The values
        do not depend on it.
    memory_budget : int, default=256 MiB
        Bytes one chunk of model inputs (with an estimated working factor) may take.
    random_state : int or numpy.random.Generator, optional
        Seed; the same int gives bit-identical explanations.
    chunk_size : int, optional
        Deprecated name of ``batch_size`` (shap-era whylens), still accepted.
    link : {"identity", "logit"}, default="identity"
        shap's link: the game's values (the model's output averaged over the
        background for each coalition), the base value and the output go
        through it, so with ``"logit"`` the values add up in log-odds.
        Probabilities are clipped to [1e-12, 1 - 1e-12] first.
    """

    method = "shap"

    def __init__(self, model: Any, masker: Any, *, feature_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None, batch_size: int | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET,
                 random_state: int | np.random.Generator | None = None,
                 chunk_size: int | None = None, link: str = "identity") -> None:
        self.link = check_link(link)
        self.batch_size = _batch_size(batch_size, chunk_size)
        self.memory_budget = memory_budget
        self.model = as_model(model, chunk_size=self.batch_size, memory_budget=memory_budget,
                              output_names=output_names)
        self.masker = _as_masker(masker, feature_names)
        if self.masker.kind == "tabular":
            self.feature_names = check_names(
                "feature_names", feature_names if feature_names is not None
                else self.masker.feature_names, self.masker.n_features, "x")
        else:
            self.feature_names = None
        check_random_state(random_state)  # validate now
        self.random_state = random_state

    # ------------------------------------------------------------ override point
    def _solve(self, game: Any, v_empty: np.ndarray, v_full: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _coalitions(self, d: int) -> int:  # pragma: no cover - abstract
        """Coalitions ``_solve`` evaluates for d features (the empty and full ones excluded)."""
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {}

    def _plan(self, d: int, rng: np.random.Generator) -> tuple[np.ndarray, Any] | None:
        """One design: coalitions (m, d) for every row and what ``_finish`` needs, or None.

        Explainers that return a plan let the rows of a table share the design,
        the model calls and one solve (``_finish`` gets every (row, output)
        pair as a column of ``v``).
        """
        return None

    def _finish(self, Z: np.ndarray, state: Any, v: np.ndarray, v_empty: np.ndarray,
                v_full: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ surface
    @property
    def expected_value(self) -> np.ndarray | float:
        """The base value (mean output over the background); a float for one output.

        Only for tabular maskers (a text base value depends on the document).
        Evaluates the model on the background at every access.
        """
        if self.masker.kind != "tabular":
            raise InputError(
                describe("expected_value", "a tabular masker", got_text=f"a {self.masker.kind} "
                         "masker", fix="Read exp.base_values of an explanation instead.")
            )
        base = apply_link(self.link, self.masker.base_value(self.model))
        return float(base[0]) if base.shape[0] == 1 else base

    def __call__(self, X: Any, *, target: Any = ALL, progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain every row (or document, or image) of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, n_features); a str or list of str
            (TextMasker); an image (H, W[, C]), a batch (n, H, W, C) or a list of
            images (ImageMasker)
        target : "all", None, int, str or a length-n sequence, default="all"
            Which outputs to explain. SHAP computes every output at the same
            cost, so the default (shap's behaviour) keeps them all; ``None``
            keeps each row's predicted class, an int or an output name that
            output for every row, a length-n sequence one output per row.
        progress : bool, optional
            A tqdm bar (default: when stderr is a terminal and the work takes
            several model calls).
        callback : callable, optional
            ``callback(coalitions_done, coalitions_total)`` after every chunk;
            raising :class:`~whylens.errors.Cancelled` or returning ``False``
            stops the work.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, n_features) (n_labels is
            n_outputs for ``target="all"``, else 1), ``labels`` (n_labels,) or
            (n, n_labels) when rows explain different outputs, ``base_values``
            (n, n_labels), ``output`` (n, n_outputs), ``features.data`` the
            rows. ``params["efficiency_max_abs_error"]`` is the largest
            ``|sum(values) + base - output|``.

        Raises
        ------
        InputError, InputTypeError
            Bad ``X`` or ``target``.
        Cancelled
            The callback stopped the work.
        ModelError, ModelOutputError
            The model raised or returned unusable output.
        """
        return self._explain(X, target, progress, callback)[0]

    def explain(self, X: Any, **kwargs: Any) -> Explanation:
        """Same as calling the explainer."""
        return self(X, **kwargs)

    def shap_values(self, X: Any, *, target: Any = ALL, progress: bool | None = None,
                    callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
        """Shapley values in shap's layout, for code ported from shap.

        Returns
        -------
        ndarray
            (n, n_features) for one explained output, (n, n_features, n_labels)
            otherwise; without the first axis when ``X`` is a single row.
        """
        return shap_layout(*self._explain(X, target, progress, callback))

    # --------------------------------------------------------------- internals
    def _entropy(self) -> int:
        return int(check_random_state(self.random_state).integers(0, 2**63 - 1))

    def _explain_table(self, X: Any, progress: bool | None, callback: Any
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Features, int, int, bool]:
        masker = self.masker
        rows, single = masker.rows(X)
        n, d = rows.shape
        nb = masker.n_background
        entropy = self._entropy()
        plan = self._plan(d, np.random.default_rng(entropy))
        # The rows (for the outputs) and the background (for the base value) go to
        # the model in its first call.
        head = np.concatenate([rows, masker.data])
        if plan is not None:
            Z, state = plan
            v, out = masker.evaluate(self.model, rows, Z, head=head, progress=progress,
                                     callback=callback)
        else:
            out = masker.outputs(self.model, head)
        fx = apply_link(self.link, out[:n])
        base = apply_link(self.link, masker.weights @ out[n:])
        if plan is not None:
            v = apply_link(self.link, v)
            # One design for all rows (the same seed gives every row the same
            # coalitions): the model calls are shared, and the solver runs once
            # with every (row, output) as a column of one right-hand side.
            k = base.shape[0]
            cols = v.transpose(1, 0, 2).reshape(Z.shape[0], n * k)
            phi = self._finish(Z, state, cols, np.tile(base, n), fx.reshape(n * k))
            values = np.ascontiguousarray(phi.reshape(d, n, k).transpose(1, 2, 0))
            coalitions = int(Z.shape[0]) * n
        else:
            tracker = Progress(callback, n * self._coalitions(d))
            phis, coalitions = [], 0
            for i in range(n):
                game = Game(masker.representation(rows[i]), self.model, progress=progress,
                            tracker=tracker)
                linked = game if self.link == "identity" else _LinkedGame(game, self.link)
                phis.append(self._solve(linked, base, fx[i], np.random.default_rng(entropy)))
                coalitions += game.n_evals
            values = np.stack([p.T for p in phis])
        base_values = np.tile(base, (n, 1))
        features = Features(kind="tabular", names=list(self.feature_names), data=rows)
        model_rows = head.shape[0] + coalitions * nb
        return values, base_values, fx, features, coalitions + 2 * n, model_rows, single

    def _explain_items(self, X: Any, progress: bool | None, callback: Any
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Features, int, int, bool]:
        items, single = self.masker.split(X)
        entropy = self._entropy()
        reps = [self.masker.representation(item) for item in items]
        tracker = Progress(callback, sum(self._coalitions(r.n_features) + 2 for r in reps))
        phis, bases, outs, n_evals = [], [], [], 0
        for rep in reps:
            game = Game(rep, self.model, progress=progress, tracker=tracker)
            if self.link != "identity":
                game = _LinkedGame(game, self.link)
            ends = game(np.array([np.zeros(rep.n_features, bool),
                                  np.ones(rep.n_features, bool)]))
            phis.append(self._solve(game, ends[0], ends[1], np.random.default_rng(entropy)))
            bases.append(ends[0])
            outs.append(ends[1])
            n_evals += game.n_evals
        width = max(p.shape[0] for p in phis)
        k = phis[0].shape[1]
        values = np.zeros((len(items), k, width))
        for i, p in enumerate(phis):  # shorter documents / fewer segments: zero padding
            values[i, :, : p.shape[0]] = p.T
        features = self.masker.features(reps, width)
        return (values, np.array(bases), np.array(outs), features, n_evals, n_evals,
                single)

    def _explain(self, X: Any, target: Any = ALL, progress: bool | None = None,
                 callback: Any = None) -> tuple[Explanation, bool]:
        callback = checked_callback(callback)
        explain = self._explain_table if self.masker.kind == "tabular" else self._explain_items
        values, base_values, fx, features, n_evals, model_rows, single = explain(
            X, progress, callback)
        if fx.shape[1] != base_values.shape[1]:
            raise InputError(describe("model", "the same number of outputs on every input",
                                      got_text=f"{base_values.shape[1]} and {fx.shape[1]}"))
        gap = np.abs(values.reshape(values.shape[0], values.shape[1], -1).sum(-1)
                     + base_values - fx)
        gap_max = float(gap.max())
        scale = 1.0 + float(np.abs(fx).max()) + float(np.abs(base_values).max())
        if gap_max > 1e-8 * scale:
            warnings.warn(
                f"{type(self).__name__}: Shapley values miss efficiency by {gap_max:.3g} "
                "(sum of values + base value != model output); the model may be "
                "non-deterministic or numerically unstable.", EfficiencyWarning, stacklevel=4)
        labels, values, base_values = select_target(target, values, base_values, fx,
                                                    self.model.output_names)
        k = fx.shape[1]
        mode = "classification" if (self.model.output == "probability" or k > 1) \
            else "regression"
        params = {"explainer": type(self).__name__,
                  "link": self.link,
                  "random_state": random_state_param(self.random_state),
                  "efficiency_max_abs_error": gap_max,
                  "model_rows": int(model_rows),
                  "batch_size": self.batch_size,
                  **self._params()}
        exp = Explanation(
            values=values, labels=labels, method=self.method, features=features,
            mode=mode, output=fx, output_names=self.model.output_names,
            base_values=base_values, params=params, n_evals=int(n_evals),
        )
        return exp, single
