"""The tabular view: a served scikit-learn classifier, its rows, and what-if explanations.

A :class:`TabularModel` is a fitted classifier with ``predict_proba`` and the
table it is explained on. A request picks a row of the table (or sends edited
values, the what-if) and a mode: SHAP (exact TreeSHAP for tree ensembles,
:class:`whylens.shap.TreeExplainer`; Kernel SHAP with a background sample for
any other model) as the numbers of a waterfall, or LIME
(:class:`whylens.lime.LimeTabularExplainer`, fitted once on the table) as
weighted feature bars. The page draws both from the numbers; a PNG is drawn
only when a panel is exported.

The ``"global"`` mode needs no row: the permutation importance of every
feature over the table (:func:`whylens.inspection.permutation_importance`,
scored against the true classes when the table has them, else against the
model's own predictions) and the partial dependence curves of the most
important features for every class (:func:`whylens.inspection.partial_dependence`,
brute force over the table's rows). The server caches it by its parameters,
so it is computed once.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens.app._panels import PanelMode, check_mode, check_target, figure_png, top_classes
from whylens.app._params import Param, parse_params
from whylens.app._served import Cache, Plan, Result
from whylens.errors import InputError, InputTypeError, WhylensError, describe

__all__ = ["GLOBAL_GRID", "GLOBAL_ROWS", "MAX_ROWS", "TabularModel"]

#: Rows of the table sent to the page (``info()["rows"]``).
MAX_ROWS = 200

#: Background rows of Kernel SHAP drawn from the table when none is given.
BACKGROUND_ROWS = 50

#: Rows of the table the global view uses at most (``max_samples`` of the importance,
#: ``subsample`` of the partial dependence; both drawn with the view's seed).
GLOBAL_ROWS = 2000

#: Grid points of the global view's partial dependence curves.
GLOBAL_GRID = 20

_SEED = Param("random_state", "int", 0, 0, 2**31 - 1, label="seed")
_SHOWN = Param("max_display", "int", 10, 2, 100, label="rows drawn", view=True)


def _table(X: Any, argument: str) -> np.ndarray:
    values = X.to_numpy() if hasattr(X, "to_numpy") else X
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(describe(argument, "a numeric table (n_rows, n_features)",
                                      X)) from exc
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(describe(argument, "a non-empty 2-D table (n_rows, n_features)",
                                  got_text=f"shape {arr.shape}"))
    if not np.isfinite(arr).all():
        raise InputError(describe(argument, "finite values", got_text="NaN or infinity",
                                  fix="Impute missing values first."))
    return arr


def _nice_step(lo: float, hi: float, integral: bool) -> float:
    """A round slider step: about a hundredth of the range (1 for small integer columns)."""
    span = hi - lo
    if span <= 0:
        return 1.0 if integral else 0.01
    step = 10.0 ** math.floor(math.log10(span / 100.0))
    if integral:
        step = max(1.0, step)
    return float(step)


class TabularModel:
    """A scikit-learn classifier and its table, served by the workbench.

    Parameters
    ----------
    model : fitted scikit-learn classifier
        With ``predict_proba``; called with numpy rows.
    X : array-like of shape (n_rows, n_features)
        The table: its first 200 rows are offered on the page, its columns'
        ranges bound the what-if sliders, LIME's statistics come from all of it.
    feature_names : sequence of str
    class_names : sequence of str
        Names of ``predict_proba``'s columns.
    y : array-like of shape (n_rows,), optional
        True classes of the rows (class labels of the model, or indices).
    title : str, optional
    background : array-like of shape (n_background, n_features), optional
        Kernel SHAP's background (or TreeSHAP's, interventional); default: 50
        rows of ``X`` drawn with seed 0 for Kernel SHAP, the trees' own cover
        (path-dependent) for TreeSHAP.

    Raises
    ------
    InputTypeError
        No ``predict_proba``, or a table that is not numeric.
    InputError
        Names that do not match the columns or outputs, labels of the wrong
        length, non-finite values.
    """

    kind = "tabular"

    def __init__(self, model: Any, X: Any, *, feature_names: Sequence[str],
                 class_names: Sequence[str], y: Any = None, title: str | None = None,
                 background: Any = None) -> None:
        from whylens.lime import LimeTabularExplainer

        if not callable(getattr(model, "predict_proba", None)):
            raise InputTypeError(describe("model", "a fitted classifier with predict_proba",
                                          model))
        self.model = model
        self.X = _table(X, "X")
        n, d = self.X.shape
        self.n_features = d
        self.feature_names = [str(f) for f in feature_names]
        if len(self.feature_names) != d:
            raise InputError(describe("feature_names", f"{d} names (the columns of X)",
                                      got_text=f"{len(self.feature_names)} names"))
        self.class_names = [str(c) for c in class_names]
        probe = self.probabilities(self.X[:1])
        if probe.shape[1] != len(self.class_names):
            raise InputError(describe("class_names", f"{probe.shape[1]} names (the model's "
                                      "outputs)", got_text=f"{len(self.class_names)} names"))
        self.n_classes = len(self.class_names)
        self.title = title or type(model).__name__
        self.rows = self.X[:MAX_ROWS]
        labels = None if y is None else self._label_indices(y, n)
        self.row_labels = None if labels is None else labels[:MAX_ROWS]
        self._labels = labels
        self.background = None if background is None else _table(background, "background")
        if self.background is not None and self.background.shape[1] != d:
            raise InputError(describe("background", f"{d} columns (as X)",
                                      got_text=f"{self.background.shape[1]} columns"))
        self.tree = self._tree_explainer()
        # The server's cache is shared by every served model: this model's own entries.
        self._cache_id = f"tabular-{uuid.uuid4().hex}"
        self.lime = LimeTabularExplainer(self.X, feature_names=self.feature_names,
                                         class_names=self.class_names, random_state=0)
        if self.tree is not None:
            shap_params: tuple[Param, ...] = (_SHOWN,)
            shap_title = "SHAP (TreeSHAP)"
        else:
            full = 2**d if d < 62 else 2**62
            low = min(full, 2 * d + 2)
            default = min(full, 2 * d + 2048)
            shap_params = (Param("nsamples", "int", default, low, max(default, 20_000),
                                 label="coalitions"), _SEED, _SHOWN)
            shap_title = "SHAP (Kernel SHAP)"
        self.modes = {
            "shap": PanelMode("shap", shap_title, self.tree is None, shap_params),
            "lime": PanelMode("lime", "LIME", True, (
                Param("num_samples", "int", 1000, 10, 10_000, label="samples"),
                Param("num_features", "int", min(10, d), 1, d, label="features"),
                _SEED,
            )),
        }
        self.global_mode = PanelMode("global", "Global view", True, (
            Param("n_repeats", "int", 5, 1, 50, label="repeats"),
            Param("top_k", "int", min(4, d), 1, min(12, d), label="PDP features"),
            _SEED,
        ))

    def _label_indices(self, y: Any, n: int) -> list[int]:
        arr = np.asarray(y).reshape(-1)
        if arr.shape[0] != n:
            raise InputError(describe("y", f"{n} labels, one per row of X",
                                      got_text=f"{arr.shape[0]} labels"))
        classes = getattr(self.model, "classes_", None)
        if classes is not None and len(classes) == len(self.class_names):
            index = {c.item() if hasattr(c, "item") else c: i for i, c in enumerate(classes)}
            try:
                return [index[v.item() if hasattr(v, "item") else v] for v in arr]
            except KeyError:
                pass
        try:
            out = [int(v) for v in arr]
        except (TypeError, ValueError) as exc:
            raise InputError(describe("y", "class labels of the model or class indices",
                                      arr[:5])) from exc
        if any(not 0 <= v < len(self.class_names) for v in out):
            raise InputError(describe("y", f"class indices in [0, {len(self.class_names)})",
                                      arr[:5]))
        return out

    def _tree_explainer(self) -> Any:
        """TreeSHAP for a tree ensemble, else None (Kernel SHAP then)."""
        from whylens.shap import TreeExplainer

        try:
            return TreeExplainer(self.model, self.background,
                                 feature_names=self.feature_names)
        except WhylensError:
            return None

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        """``model.predict_proba`` of numpy rows (as a DataFrame of its columns when it was
        fitted on one, so scikit-learn does not warn on every call)."""
        columns = getattr(self.model, "feature_names_in_", None)
        if columns is not None:
            import pandas as pd

            rows = pd.DataFrame(np.asarray(rows), columns=list(columns))
        return self.model.predict_proba(rows)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """``model.predict_proba(rows)`` as a float (n, n_classes) array."""
        return np.asarray(self.predict_proba(rows), dtype=np.float64)

    # ------------------------------------------------------------------ the served protocol
    def info(self) -> dict[str, Any]:
        """What the page needs to draw the view (JSON-ready)."""
        ranges = []
        for j in range(self.n_features):
            col = self.X[:, j]
            lo, hi = float(col.min()), float(col.max())
            integral = bool(np.all(col == np.round(col)))
            ranges.append({"min": lo, "max": hi, "step": _nice_step(lo, hi, integral)})
        return {"kind": self.kind, "title": self.title, "class_names": list(self.class_names),
                "feature_names": list(self.feature_names), "rows": self.rows.tolist(),
                "row_labels": self.row_labels, "ranges": ranges,
                "modes": [m.schema() for m in self.modes.values()],
                "global": self.global_mode.schema()}

    def _row(self, body: dict[str, Any]) -> tuple[np.ndarray, int | None]:
        """The explained values (the what-if ``values``, else row ``row``) and the row index."""
        values = body.get("values")
        if values is not None:
            if not isinstance(values, list) or any(
                    isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
                raise InputTypeError(describe("values", f"a list of {self.n_features} numbers",
                                              values))
            if len(values) != self.n_features:
                raise InputError(describe("values", f"{self.n_features} numbers (one per "
                                          "feature)", got_text=f"{len(values)} numbers"))
            arr = np.asarray(values, dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise InputError(describe("values", "finite numbers",
                                          got_text=f"NaN or infinity at {bad[:10].tolist()}"))
            return arr, None
        row = body.get("row")
        if row is None:
            raise InputError(describe("row", f"a row index in [0, {len(self.rows)}) or "
                                      "values", None))
        if isinstance(row, bool) or not isinstance(row, int):
            raise InputTypeError(describe("row", "a row index (int)", row))
        if not 0 <= row < len(self.rows):
            raise InputError(describe("row", f"a row index in [0, {len(self.rows)})", row))
        return self.rows[row].copy(), row

    def plan(self, body: dict[str, Any], cache: Cache) -> Plan:
        """Check a tabular request and plan it.

        ``body``: ``{"mode", "row" | "values", "target", "params"}``;
        ``values`` (the what-if) overrides ``row``; ``target`` defaults to the
        most probable class. ``{"mode": "global", "params"}`` needs no row.

        Raises
        ------
        InputError, InputTypeError
            An unknown mode, a row out of range, values of the wrong length or
            not finite, a target or parameter out of range.
        """
        if body.get("mode") == "global":
            return self._global_plan(body)
        mode = check_mode(body.get("mode"), self.modes)
        x, row = self._row(body)
        target = check_target(body.get("target"), self.n_classes)
        values_key = tuple(float(v) for v in x)
        if mode is None:
            return Plan(("predict", values_key), lambda report: Result(
                None, {"classes": top_classes(self.probabilities(x[None])[0],
                                              self.class_names),
                       "row": row, "values": x.tolist()}))
        params = parse_params(mode.params, body.get("params"))
        compute_key = ("explanation", mode.name, values_key, target, mode.compute_params(params))
        key = (*compute_key, tuple(params.items()))

        def run(report: Callable[[int, int], None]) -> Result:
            probs = self.probabilities(x[None])[0]
            chosen = int(np.argmax(probs)) if target is None else target
            ckey = (self._cache_id, *compute_key[:3], chosen, compute_key[4])
            exp = cache.get(ckey)
            start = time.perf_counter()
            if exp is None:
                exp = (self._shap if mode.name == "shap" else self._lime)(x, chosen, params,
                                                                          report)
                cache.put(ckey, exp)
            seconds = time.perf_counter() - start
            return self._result(mode, exp, x, row, chosen, probs, params, seconds)

        return Plan(key, run, long=mode.long)

    # ------------------------------------------------------------------ the global view
    def _model_table(self, rows: np.ndarray) -> Any:
        """Rows as the model takes them (a DataFrame of its columns when fitted on one)."""
        columns = getattr(self.model, "feature_names_in_", None)
        if columns is None:
            return rows
        import pandas as pd

        return pd.DataFrame(rows, columns=list(columns))

    def global_targets(self) -> tuple[Any, str]:
        """What the global importance is scored against: the true classes, else the model's
        predictions.

        Returns
        -------
        y : ndarray of shape (n_rows,)
            Class labels of the model (its ``classes_``, else class indices).
        against : str
            ``"true classes"`` or ``"the model's predictions"``.
        """
        if self._labels is None:
            return (np.asarray(self.model.predict(self._model_table(self.X))),
                    "the model's predictions")
        labels = np.asarray(self._labels)
        classes = getattr(self.model, "classes_", None)
        if classes is not None and len(classes) == self.n_classes:
            return np.asarray(classes)[labels], "true classes"
        return labels, "true classes"

    def _global_plan(self, body: dict[str, Any]) -> Plan:
        params = parse_params(self.global_mode.params, body.get("params"))
        key = ("global", tuple(params.items()))

        def run(report: Callable[[int, int], None]) -> Result:
            return self._global(params, report)

        return Plan(key, run, long=True)

    def _global(self, params: dict[str, Any], report: Callable[[int, int], None]) -> Result:
        from whylens.inspection import partial_dependence, permutation_importance

        start = time.perf_counter()
        seed = params["random_state"]
        X = self._model_table(self.X)
        y, against = self.global_targets()
        n = self.X.shape[0]
        limit = None if n <= GLOBAL_ROWS else GLOBAL_ROWS
        imp = permutation_importance(self.model, X, y, n_repeats=params["n_repeats"],
                                     max_samples=limit, random_state=seed, progress=False,
                                     callback=report)
        imp = dataclasses.replace(imp, names=[self.feature_names[g[0]] for g in imp.groups])
        order = np.argsort(-imp.mean[0], kind="stable")
        top = [int(j) for j in order[:params["top_k"]]]
        pd = partial_dependence(self.model, X, top, kind="average", grid_resolution=GLOBAL_GRID,
                                method="brute", subsample=limit, random_state=seed,
                                progress=False, callback=report)
        seconds = time.perf_counter() - start
        importances = [{"name": imp.names[j], "feature": int(imp.groups[j][0]),
                        "mean": float(imp.mean[0, j]), "std": float(imp.std[0, j])}
                       for j in order]
        curves = [{"name": self.feature_names[j], "feature": j,
                   "grid": np.asarray(pd.grid_values[s][0], dtype=np.float64).tolist(),
                   "average": np.asarray(pd.average[s], dtype=np.float64).tolist()}
                  for s, j in enumerate(top)]
        meta = {"mode": "global", "title": "Global view", "scorer": imp.scorers[0],
                "scored_against": against, "baseline": float(imp.baseline[0]),
                "n_rows": int(n if limit is None else limit), "n_repeats": params["n_repeats"],
                "importances": importances, "pdp": curves,
                "pdp_classes": [self.class_names[t] for t in pd.targets],
                "seconds": round(seconds, 4), "n_evals": int(_evals(imp) + _evals(pd))}
        title = f"Global view of {self.title}"

        def draw() -> bytes:
            from whylens.inspection import PermutationImportanceDisplay

            disp = PermutationImportanceDisplay.from_result(imp, kind="bar", max_display=15)
            disp.ax_.set_title(f"{title}: permutation importance ({imp.scorers[0]})")
            return figure_png(disp.figure_)

        return Result(None, meta, draw_png=draw, title=title)

    # ------------------------------------------------------------------ the modes
    def _shap(self, x: np.ndarray, target: int, params: dict[str, Any],
              report: Callable[[int, int], None]) -> Any:
        if self.tree is not None:
            return self.tree(x[None], target=target, progress=False, callback=report)
        from whylens.shap import KernelExplainer

        background = self.background
        if background is None:
            rng = np.random.default_rng(0)
            take = min(BACKGROUND_ROWS, self.X.shape[0])
            background = self.X[np.sort(rng.choice(self.X.shape[0], take, replace=False))]
        explainer = KernelExplainer(self.predict_proba, background,
                                    feature_names=self.feature_names,
                                    output_names=self.class_names, nsamples=params["nsamples"],
                                    random_state=params["random_state"])
        return explainer(x[None], target=target, progress=False, callback=report)

    def _lime(self, x: np.ndarray, target: int, params: dict[str, Any],
              report: Callable[[int, int], None]) -> Any:
        explainer = copy.copy(self.lime)  # the fitted statistics shared, its own seed
        explainer.random_state = params["random_state"]
        return explainer.explain_instance(
            x, self.predict_proba, target=target, num_features=params["num_features"],
            num_samples=params["num_samples"], progress=False, callback=report)

    def _result(self, mode: PanelMode, exp: Any, x: np.ndarray, row: int | None, target: int,
                probs: np.ndarray, params: dict[str, Any], seconds: float) -> Result:
        weights = np.asarray(exp.values, dtype=np.float64)[0, 0].reshape(-1)
        descriptions = (exp.features.descriptions[0] if exp.features.descriptions
                        else self.feature_names)
        order = np.argsort(-np.abs(weights), kind="stable")
        if mode.name == "lime" and exp.selected is not None:
            chosen = np.asarray(exp.selected)[0, 0].reshape(-1)
            order = order[chosen[order]]
        features = [{"name": self.feature_names[j], "value": float(x[j]),
                     "weight": float(weights[j]), "description": str(descriptions[j])}
                    for j in order]
        label = self.class_names[target]
        if mode.name == "shap":
            base = float(np.asarray(exp.base_values)[0, 0])
            output = base + float(weights.sum())
        else:
            base = float(np.ravel(exp.surrogate.intercept)[0])
            output = float(np.ravel(exp.surrogate.local_prediction)[0])
        meta = {"mode": mode.name, "title": f"{mode.title}: {label}", "target": target,
                "target_label": label, "classes": top_classes(probs, self.class_names),
                "row": row, "values": x.tolist(), "p": float(probs[target]),
                "base_value": base, "output_value": output, "features": features,
                "seconds": round(seconds, 4), "n_evals": int(exp.n_evals or 0)}
        if mode.name == "lime" and exp.surrogate is not None:
            meta["score"] = float(np.ravel(exp.surrogate.score)[0])
        title = f"{mode.title} of {self.title} ({label})"
        shown = int(params.get("max_display", 10))

        def draw() -> bytes:
            from whylens.plot import bar, waterfall

            if mode.name == "shap":
                fig = waterfall(exp, label=target, max_display=shown, title=title)
            else:
                fig = bar(exp, label=target, title=title)
            return figure_png(fig)

        return Result(exp, meta, draw_png=draw, title=title)


def _evals(result: Any) -> int:
    """Model evaluations of an inspection result (an int, or a dict per response method)."""
    n = result.n_evals
    return int(sum(n.values())) if isinstance(n, dict) else int(n or 0)
