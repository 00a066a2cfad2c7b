"""Global SHAP: attributions of many rows summarised per feature, and shap's ``summary_plot``.

:func:`global_shap` aggregates an :class:`~whylens.Explanation` over its rows
(mean ``|value|`` per feature, the signed mean and the spread, per explained
class, and the mean ``|interaction|`` of each pair when SHAP interaction values
are given). The result turns into a one-instance Explanation that
:func:`whylens.plot.bar` draws, and keeps the batch that
:func:`whylens.plot.beeswarm` draws. :func:`summary_plot` is the entry users of
shap call: it takes an Explanation, shap's arrays (one array, a list of one per
class, or an (n, d, k) array) or a ``shap.Explanation``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from whylens._serialize import decode, encode
from whylens._validation import check_names, check_positive_int
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.inspection._arguments import float_array
from whylens.inspection._results import InspectionResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["GlobalShap", "global_shap", "summary_plot"]

#: The ``"format"`` entry of a global SHAP document.
GLOBAL_SHAP_FORMAT = "whylens.GlobalShap/1"

_PLOT_TYPES = ("dot", "bar")


@dataclass(eq=False)
class GlobalShap(InspectionResult):
    """SHAP values of a batch summarised per feature and per explained label.

    Attributes
    ----------
    feature_names : list of str, length d
    labels : ndarray of int, shape (n_labels,)
        The model outputs summarised (each row of the arrays below).
    label_names : list of str, length n_labels
    mean_abs : ndarray of shape (n_labels, d)
        Mean ``|SHAP value|`` over the rows that explain each label: the
        global importance shap's bar plot shows.
    mean : ndarray of shape (n_labels, d)
        Mean signed SHAP value (its direction on average).
    std : ndarray of shape (n_labels, d)
        Standard deviation of the SHAP values.
    counts : ndarray of int, shape (n_labels,)
        Rows summarised per label (they differ when each row explained its
        own predicted class).
    mode : {"classification", "regression"}
    method : str
        The method of the summarised explanation.
    interaction : ndarray of shape (n_labels, d, d), optional
        Mean ``|SHAP interaction value|``; ``[a, a]`` is a's main effect, and
        a pair's interaction is split between ``[a, b]`` and ``[b, a]``.
    explanation : Explanation, optional
        The summarised batch (what :func:`whylens.plot.beeswarm` draws).
    """

    FORMAT: ClassVar[str] = GLOBAL_SHAP_FORMAT

    feature_names: list[str]
    labels: np.ndarray
    label_names: list[str]
    mean_abs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    counts: np.ndarray
    mode: str = "classification"
    method: str = "shap"
    interaction: np.ndarray | None = None
    explanation: Explanation | None = field(default=None, repr=False)

    def _row(self, label: int | None) -> int:
        if label is None:
            if self.labels.size == 1:
                return 0
            if self.labels.size == 2:
                return 1
            raise InputError(describe("label", f"one of the summarised labels "
                                      f"{self.labels.tolist()}", None,
                                      "Several labels are summarised: pass label=..."))
        where = np.flatnonzero(self.labels == label)
        if where.size == 0 or isinstance(label, bool):
            raise InputError(describe("label", f"one of the summarised labels "
                                      f"{self.labels.tolist()}", label))
        return int(where[0])

    def ranking(self, label: int | None = None) -> list[tuple[str, float]]:
        """Features by decreasing mean ``|SHAP value|`` for ``label``.

        Parameters
        ----------
        label : int, optional
            A summarised label; default the only one, or the positive class of two.

        Returns
        -------
        list of (str, float)

        Raises
        ------
        InputError
            An unknown label, or none given when several (more than two) are summarised.
        """
        imp = self.mean_abs[self._row(label)]
        order = np.argsort(-imp, kind="stable")
        return [(self.feature_names[j], float(imp[j])) for j in order]

    def top_interactions(self, label: int | None = None, k: int = 10
                         ) -> list[tuple[str, str, float]]:
        """The ``k`` pairs with the strongest mean ``|interaction|`` (both halves summed).

        Returns
        -------
        list of (str, str, float)

        Raises
        ------
        InputError
            No interaction values were summarised, or an unknown label.
        """
        if self.interaction is None:
            raise InputError(describe("interaction_values", "SHAP interaction values, given to "
                                      "global_shap(..., interaction_values=...)", None,
                                      "Compute them with TreeExplainer.shap_interaction_values."))
        k = check_positive_int("k", k)
        M = self.interaction[self._row(label)]
        a, b = np.triu_indices(M.shape[0], 1)
        strength = M[a, b] + M[b, a]
        order = np.argsort(-strength, kind="stable")[:k]
        return [(self.feature_names[a[i]], self.feature_names[b[i]], float(strength[i]))
                for i in order]

    def to_explanation(self, aggregate: str = "mean_abs") -> Explanation:
        """A one-instance Explanation holding the summary, for :func:`whylens.plot.bar`.

        Parameters
        ----------
        aggregate : {"mean_abs", "mean"}, default="mean_abs"

        Returns
        -------
        Explanation
            ``values`` of shape (1, n_labels, d), ``method="shap.global"``.

        Raises
        ------
        InputError
            An unknown ``aggregate``.
        """
        if aggregate not in ("mean_abs", "mean"):
            raise InputError(describe("aggregate", "'mean_abs' or 'mean'", aggregate))
        output_names = None
        if self.mode == "classification":
            width = int(self.labels.max()) + 1 if self.labels.size else 0
            output_names = [str(i) for i in range(width)]
            for lab, name in zip(self.labels, self.label_names, strict=True):
                output_names[int(lab)] = name
        return Explanation(
            values=getattr(self, aggregate)[None].copy(), labels=self.labels.copy(),
            method="shap.global", features=Features(kind="tabular",
                                                    names=list(self.feature_names)),
            mode=self.mode, output_names=output_names,
            params={"aggregate": aggregate, "source_method": self.method,
                    "counts": self.counts.tolist()})

    def bar(self, label: int | None = None, max_display: int = 10, ax: Axes | None = None,
            title: str | None = None) -> Figure:
        """shap's global bar plot of the summary (:func:`whylens.plot.bar`).

        Returns
        -------
        matplotlib.figure.Figure
        """
        from whylens.plot import bar

        row = self._row(label)
        label = int(self.labels[row])
        if self.mode == "regression":
            label = 1  # lime's name of the output in regression mode
        return bar(self.to_explanation(), label=label, max_display=max_display, ax=ax,
                   title=title or "mean(|SHAP value|)")

    def beeswarm(self, label: int | None = None, max_display: int = 10, ax: Axes | None = None,
                 title: str | None = None) -> Figure:
        """The beeswarm of the summarised batch (:func:`whylens.plot.beeswarm`).

        Raises
        ------
        InputError
            The batch was not kept (a summary read back without it).
        """
        if self.explanation is None:
            raise InputError(describe("explanation", "the summarised batch", None,
                                      "It was not kept: summarise with global_shap(exp)."))
        from whylens.plot import beeswarm

        return beeswarm(self.explanation, label=label, max_display=max_display, ax=ax,
                        title=title)

    # ---------------------------------------------------------- serialisation
    def _encode_field(self, name: str, value: Any) -> Any:
        """The batch, when kept, as its own Explanation document."""
        if name == "explanation":
            return None if value is None else value.to_dict()
        return encode(value)

    @classmethod
    def _decode_field(cls, name: str, raw: Any) -> Any:
        if name == "explanation":
            return None if raw is None else Explanation.from_dict(raw)
        return decode(raw)


# ------------------------------------------------------------------ inputs
def _from_arrays(values: Any, features: Any, feature_names: Sequence[str] | None,
                 method: str = "shap") -> Explanation:
    """shap's arrays (and feature values) as a batch Explanation."""
    if isinstance(features, (list, tuple)) and features and all(
            isinstance(f, str) for f in features):
        if feature_names is not None:
            raise InputError(describe("features", "feature values, or names when "
                                      "feature_names is not given", features))
        feature_names, features = list(features), None
    if isinstance(values, list):
        try:
            V = np.stack([np.asarray(v, dtype=np.float64) for v in values], axis=1)
        except (TypeError, ValueError) as exc:
            raise InputError(describe("shap_values", "a list of (n, d) arrays of one shape, "
                                      "one per class", values)) from exc
        if V.ndim == 2:  # a list of 1-D arrays: one row
            V = V.T[None]
    else:
        A = float_array(values, "shap_values", "a numeric array of SHAP values")
        if A.ndim == 1:
            V = A[None, None, :]
        elif A.ndim == 2:
            V = A[:, None, :]
        elif A.ndim == 3:
            V = np.moveaxis(A, 2, 1)  # shap's (n, d, k) -> (n, k, d)
        else:
            raise InputError(describe("shap_values", "shape (n, d), (n, d, k) or a list of "
                                      "(n, d) arrays", A))
    n, k, d = V.shape
    data = None
    if features is not None:
        if hasattr(features, "columns") and feature_names is None:
            feature_names = [str(c) for c in features.columns]
        if hasattr(features, "to_numpy"):
            features = features.to_numpy()
        data = float_array(features, "features", "numeric feature values (n, d)")
        if data.ndim == 1:
            data = data[None]
        if data.shape != (n, d):
            raise InputError(describe("features", f"feature values of shape ({n}, {d}), like "
                                      "the SHAP values", got_text=f"shape {data.shape}"))
    names = check_names("feature_names", feature_names, d, "Feature ")
    if not np.isfinite(V).all():
        raise InputError(describe("shap_values", "finite numbers",
                                  got_text="NaN or infinity"))
    return Explanation(values=V, labels=np.arange(k), method=method,
                       features=Features(kind="tabular", names=names, data=data),
                       mode="regression" if k == 1 else "classification")


def _as_explanation(obj: Any, features: Any = None, feature_names: Sequence[str] | None = None
                    ) -> Explanation:
    if isinstance(obj, Explanation):
        if features is not None or feature_names is not None:
            raise InputError(describe("features", "None when a whylens Explanation is given "
                                      "(it holds its data and names)", features))
        if obj.values.ndim != 3:
            raise InputError(describe("explanation", "values of shape (n, n_labels, n_features)",
                                      got_text=f"values of shape {obj.values.shape}",
                                      fix="Global summaries are for tables and text features."))
        return obj
    if type(obj).__module__.split(".")[0] == "shap" and hasattr(obj, "values"):
        names = feature_names if feature_names is not None else getattr(obj, "feature_names",
                                                                         None)
        data = features if features is not None else getattr(obj, "data", None)
        return _from_arrays(obj.values, data, None if names is None else list(names))
    if isinstance(obj, (np.ndarray, list)) or hasattr(obj, "__array__"):
        return _from_arrays(obj, features, feature_names)
    raise InputTypeError(describe("explanation", "a whylens Explanation, a shap.Explanation, "
                                  "or SHAP values (an array or a list of arrays)", obj))


# ------------------------------------------------------------------ public
def global_shap(explanation: Any, *, interaction_values: Any = None,
                features: Any = None, feature_names: Sequence[str] | None = None,
                keep_explanation: bool = True) -> GlobalShap:
    """Summarise SHAP values over rows: mean ``|value|`` per feature, per label.

    Parameters
    ----------
    explanation : Explanation, shap.Explanation, ndarray or list of ndarray
        A batch. Arrays are in shap's layouts: (n, d), (n, d, k), or a list of
        k arrays (n, d).
    interaction_values : ndarray of shape (n, d, d) or (n, d, d, k), optional
        SHAP interaction values of the same rows
        (:meth:`whylens.shap.TreeExplainer.shap_interaction_values`), one
        matrix per summarised label.
    features : ndarray or DataFrame of shape (n, d), optional
        Feature values for SHAP arrays (a list of names also works, as shap's).
    feature_names : sequence of str, optional
        Names for SHAP arrays.
    keep_explanation : bool, default=True
        Keep the batch in the summary (for the beeswarm; it goes into the JSON).

    Returns
    -------
    GlobalShap
        With each row of the explanation counted for the label it explains:
        when rows explain different labels (each row's predicted class), a
        label's summary is over its own rows.

    Raises
    ------
    InputError, InputTypeError
        Not a batch of SHAP values, interaction values of the wrong shape.
    """
    exp = _as_explanation(explanation, features, feature_names)
    V = exp.values
    n, k, d = V.shape
    if n == 0:
        raise InputError(describe("explanation", "at least one row", got_text="no rows"))
    labels2 = np.broadcast_to(exp.labels, (n, k)) if exp.labels.ndim == 1 else exp.labels
    classes = np.unique(labels2)
    mean_abs = np.empty((classes.size, d))
    mean = np.empty((classes.size, d))
    std = np.empty((classes.size, d))
    counts = np.empty(classes.size, dtype=np.int64)
    for c, lab in enumerate(classes):
        rows = V[labels2 == lab]  # (m, d): every (row, position) explaining this label
        counts[c] = rows.shape[0]
        mean_abs[c] = np.abs(rows).mean(axis=0)
        mean[c] = rows.mean(axis=0)
        std[c] = rows.std(axis=0)
    interaction = None
    if interaction_values is not None:
        inter = float_array(interaction_values, "interaction_values", "a numeric array")
        if inter.ndim == 3:
            inter = inter[..., None]
        if inter.ndim != 4 or inter.shape[:3] != (n, d, d) or inter.shape[3] != classes.size:
            raise InputError(describe(
                "interaction_values", f"shape ({n}, {d}, {d}) or ({n}, {d}, {d}, "
                f"{classes.size}): one (d, d) matrix per row and summarised label",
                got_text=f"shape {inter.shape}"))
        interaction = np.moveaxis(np.abs(inter).mean(axis=0), 2, 0)
    return GlobalShap(
        feature_names=list(exp.features.names), labels=classes.astype(np.int64),
        label_names=[exp.output_name(int(c)) for c in classes], mean_abs=mean_abs,
        mean=mean, std=std, counts=counts, mode=exp.mode, method=exp.method,
        interaction=interaction, explanation=exp if keep_explanation else None)


def summary_plot(explanation_or_values: Any, features: Any = None,
                 feature_names: Sequence[str] | None = None, plot_type: str | None = None,
                 max_display: int = 20, *, label: int | None = None, ax: Axes | None = None,
                 title: str | None = None, class_names: Sequence[str] | None = None,
                 show: bool = False) -> Figure:
    """shap's ``summary_plot``: a beeswarm (``"dot"``) or global bar chart (``"bar"``).

    Never calls ``plt.show()``: returns the figure (``ax``'s when given).

    Parameters
    ----------
    explanation_or_values : Explanation, shap.Explanation, ndarray or list of ndarray
        A batch of SHAP values; arrays in shap's layouts (n, d), (n, d, k) or a
        list of k arrays (n, d) (one per class).
    features : ndarray or DataFrame of shape (n, d), or list of str, optional
        Feature values that colour the dots (names from a DataFrame's
        columns), or the feature names (shap's shorthand).
    feature_names : sequence of str, optional
    plot_type : {"dot", "bar"}, optional
        Default ``"dot"`` for one output, ``"bar"`` (stacked per class, as
        shap) for several.
    max_display : int, default=20
    label : int, optional
        The output to draw (its index); default the only one, or the positive
        class of two. ``"bar"`` without a label over several outputs stacks
        one bar segment per class.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    class_names : sequence of str, optional
        Names of the outputs (shap's argument), one per model output.
    show : bool, default=False
        Accepted for shap's calls (``show=False``); the figure is returned and
        never shown, whatever the value (display it in a notebook as the
        cell's value, or save it with ``fig.savefig``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError, InputTypeError
        Unknown ``plot_type``, SHAP values and features of different shapes,
        a label that was not explained, ``class_names`` of the wrong length.
    """
    del show  # never plt.show(): the caller decides what to do with the figure
    exp = _as_explanation(explanation_or_values, features, feature_names)
    if class_names is not None:
        width = max(int(exp.labels.max()) + 1, len(exp.output_names or []))
        names = check_names("class_names", class_names, width, "")
        exp = dataclasses.replace(exp, output_names=names)
    check_positive_int("max_display", max_display)
    n_labels = exp.values.shape[1]
    if plot_type is None:
        plot_type = "dot" if n_labels == 1 else "bar"
    if plot_type not in _PLOT_TYPES:
        raise InputError(describe("plot_type", f"one of {_PLOT_TYPES}", plot_type,
                                  "'dot' draws the beeswarm, 'bar' the mean |SHAP value|."))
    from whylens.plot import beeswarm, global_bar

    if plot_type == "dot":
        return beeswarm(exp, label=label, max_display=max_display, ax=ax, title=title)
    if label is not None or n_labels == 1:
        return global_bar(exp, label=label, max_display=max_display, ax=ax, title=title)
    return _stacked_bar(global_shap(exp, keep_explanation=False), max_display, ax, title)


def _stacked_bar(summary: GlobalShap, max_display: int, ax: Axes | None, title: str | None
                 ) -> Figure:
    """shap's multi-output bar: one stacked segment per class, sorted by the total."""
    from whylens.plot._common import new_axes
    from whylens.plot._fonts import text_families

    total = summary.mean_abs.sum(axis=0)
    top = min(max_display, total.size)
    order = np.argsort(-total, kind="stable")[:top]
    fig, ax = new_axes(ax, (6.6, 1.2 + 0.38 * top))
    pos = np.arange(top)[::-1]
    left = np.zeros(top)
    colours = [f"C{i % 10}" for i in range(summary.labels.size)]
    for r, name in enumerate(summary.label_names):
        width = summary.mean_abs[r, order]
        ax.barh(pos, width, left=left, height=0.7, color=colours[r], label=f"Class {name}")
        left += width
    ax.set_yticks(pos, [summary.feature_names[j] for j in order], family=text_families())
    ax.set_xlabel("mean(|SHAP value|) (average impact on model output magnitude)")
    ax.legend(loc="lower right", fontsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, family=text_families())
    return fig
