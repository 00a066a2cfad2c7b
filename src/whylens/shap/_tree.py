"""TreeSHAP for scikit-learn tree ensembles: exact, path-dependent and interventional."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import ALL, checked_callback
from whylens._validation import check_names
from whylens.errors import (
    InputError,
    InputTypeError,
    MissingDependencyError,
    ModelError,
    ModelOutputError,
    NotSupportedError,
    describe,
)
from whylens.explanation import Explanation, Features
from whylens.models import Model
from whylens.models._frames import is_dataframe
from whylens.representations.masking import check_rows
from whylens.shap._target import select_target
from whylens.shap._tree_models import FlatEnsemble, model_output, read_model

__all__ = ["TreeExplainer"]

_PERTURBATIONS = ("tree_path_dependent", "interventional")
_OUTPUTS = ("raw", "probability", "log_loss")
#: Additivity is checked to this tolerance, relative to max(1, |output|).
ADDITIVITY_TOL = 1e-9
#: Rows explained per pass of the compiled kernels (each pass split over the threads);
#: the callback is called and cancellation checked between passes.
ROW_BLOCK = 1 << 14


def _kernels() -> Any:
    """The numba kernels, compiled (or loaded from numba's cache) on first use."""
    try:
        import numba  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            describe("numba", "installed for TreeExplainer's compiled TreeSHAP",
                     got_text="not installed", fix="pip install 'whylens[tree]'")
        ) from exc
    from whylens.shap import _tree_kernels

    return _tree_kernels


def _depth_and_expectation(ens: FlatEnsemble) -> tuple[int, np.ndarray]:
    """Deepest root-to-leaf path and the cover-weighted mean of the leaf values (n_outputs,).

    Breadth-first over all trees at once with numpy (no compilation needed).
    """
    expectation = np.zeros(ens.n_outputs)
    frontier = ens.roots.copy()
    tree = np.arange(ens.n_trees)
    prob = np.ones(ens.n_trees)
    depth = -1
    while frontier.size:
        depth += 1
        leaf = ens.left[frontier] < 0
        for j in range(ens.value.shape[1]):
            np.add.at(expectation, ens.tree_out[tree[leaf]] + j,
                      prob[leaf] * ens.value[frontier[leaf], j])
        inner, tree, prob = frontier[~leaf], tree[~leaf], prob[~leaf]
        kids_l, kids_r = ens.left[inner], ens.right[inner]
        cover = ens.cover[inner]
        frontier = np.concatenate([kids_l, kids_r])
        tree = np.concatenate([tree, tree])
        prob = np.concatenate([prob * ens.cover[kids_l] / cover,
                               prob * ens.cover[kids_r] / cover])
    return depth, expectation


def _frame_columns(X: Any, names: list[str] | None, argument: str) -> Any:
    """A DataFrame's columns in the model's order (by name), or ``X`` unchanged."""
    if not is_dataframe(X) or names is None:
        return X
    by_name = {str(c): c for c in X.columns}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise InputError(describe(argument, f"the model's columns {names[:10]}",
                                  got_text=f"a DataFrame without {missing[:5]}",
                                  fix="Pass rows with the columns the model was fitted on."))
    return X[[by_name[n] for n in names]]


def _as_table(X: Any, d: int, argument: str) -> tuple[np.ndarray, bool]:
    """Rows as float64 (n, d) with NaN allowed (routed by the trees), and whether one came."""
    return check_rows(X, d, argument, allow_nan=True, what="the model's")


def _transform(code: int, margin: np.ndarray, y: np.ndarray) -> np.ndarray:
    """numpy twin of the kernels' transforms: sigmoid, logistic loss, squared loss."""
    if code == 1:
        return 1.0 / (1.0 + np.exp(-margin))
    if code == 2:
        return np.logaddexp(0.0, margin) - y * margin
    return (margin - y) ** 2


class TreeExplainer:
    """Exact SHAP values of scikit-learn tree ensembles (TreeSHAP), compiled with numba.

    The trees are read once into flat arrays. Path-dependent values come from
    one depth-first pass per row and tree that carries the path's product
    polynomial at Gauss-Legendre nodes (the idea of Linear TreeSHAP):
    O(n_nodes * depth / 2) per row and tree, rows in threads. Interventional
    values reduce the background to the distinct sets of path conditions each
    background row satisfies per leaf, so each row costs the number of
    distinct sets, not the number of background rows.

    Parameters
    ----------
    model : fitted scikit-learn tree model
        DecisionTree, ExtraTree, RandomForest, ExtraTrees, GradientBoosting or
        HistGradientBoosting, classifier or regressor. (XGBoost and LightGBM
        are not supported yet.)
    data : array-like of shape (n_background, n_features), optional
        Background rows; needed for ``"interventional"``.
    feature_perturbation : {"tree_path_dependent", "interventional"}, optional
        ``"tree_path_dependent"``: ``E[f(x) | x_S]`` estimated by the trees'
        training cover (no data needed). ``"interventional"``: the mean of
        ``f(x_S, r_notS)`` over the background rows r. Default:
        ``"interventional"`` when ``data`` is given, else path-dependent.
    model_output : {"raw", "probability", "log_loss"}, default="raw"
        ``"raw"`` explains what the trees add up to: probabilities for
        DecisionTree/RandomForest/ExtraTrees classifiers, log-odds (one
        output) or per-class scores for gradient boosting classifiers, the
        prediction for regressors. ``"probability"`` equals ``"raw"`` for
        forest classifiers; for one-output boosted classifiers it explains the
        sigmoid of the log-odds and ``"log_loss"`` the logistic loss (squared
        error for regressors; pass the labels, ``explainer(X, y)``). Those two
        need ``"interventional"`` and follow shap's definition: per background
        row the raw values rescaled by ``(g(f(x)) - g(f(r))) / (f(x) - f(r))``,
        averaged, at a cost of rows x background rows. Multi-output models with
        a nonlinear output raise :class:`~whylens.errors.NotSupportedError`.
    feature_names : sequence of str, optional
        Default: the model's ``feature_names_in_``, else ``x0, x1, ...``.
    check_additivity : bool, default=True
        Check that every row's values plus the base value equal the model's
        own output to 1e-9 (relative to max(1, |output|)).
    n_jobs : int, optional
        Threads running the compiled kernels on chunks of rows (they release the
        GIL); None or -1: every core this process may use.

    Attributes
    ----------
    ensemble : FlatEnsemble
        The flat arrays read from the model.
    expected_value : float or ndarray of shape (n_outputs,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from whylens.shap import TreeExplainer
    >>> X = np.array([[0.0], [1.0]]); y = np.array([0.0, 2.0])
    >>> explainer = TreeExplainer(DecisionTreeRegressor().fit(X, y))
    >>> explainer.expected_value, explainer.shap_values(X).tolist()
    (1.0, [[-1.0], [1.0]])
    """

    method = "shap.tree"

    def __init__(self, model: Any, data: Any = None,
                 feature_perturbation: str | None = None, model_output: str = "raw", *,
                 feature_names: Sequence[str] | None = None, check_additivity: bool = True,
                 n_jobs: int | None = None) -> None:
        if feature_perturbation is None:
            feature_perturbation = "tree_path_dependent" if data is None else "interventional"
        if feature_perturbation not in _PERTURBATIONS:
            raise InputError(describe("feature_perturbation", f"one of {_PERTURBATIONS}",
                                      feature_perturbation))
        if model_output not in _OUTPUTS:
            raise InputError(describe("model_output", f"one of {_OUTPUTS}", model_output))
        if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                                   or (n_jobs < 1 and n_jobs != -1)):
            raise InputError(describe("n_jobs", "None, -1 or an int >= 1", n_jobs))
        self.model = model
        self.ensemble: FlatEnsemble = read_model(model)
        ens = self.ensemble
        self._code = self._transform_code(model_output, feature_perturbation)
        if feature_perturbation == "interventional" and data is None:
            raise InputError(
                describe("data", "background rows for feature_perturbation='interventional'",
                         None, "Pass e.g. data=X_train[:1000], or use "
                         "feature_perturbation='tree_path_dependent'.")
            )
        self.feature_perturbation = feature_perturbation
        self.model_output = model_output
        self.check_additivity = bool(check_additivity)
        self.n_jobs = n_jobs
        d = ens.n_features
        self.feature_names = check_names(
            "feature_names", feature_names if feature_names is not None
            else ens.feature_names, d, "x")
        self._depth, path_expectation = _depth_and_expectation(ens)
        # Gauss-Legendre on [0, 1], exact for the path polynomials (degree < unique features).
        n_gl = max(1, math.ceil(min(self._depth, d) / 2))
        nodes, weights = np.polynomial.legendre.leggauss(n_gl)
        self._tn = np.ascontiguousarray((nodes + 1.0) / 2.0)
        self._tw = np.ascontiguousarray(weights / 2.0)
        self.data = None
        if feature_perturbation == "interventional":
            background, _ = _as_table(_frame_columns(data, ens.feature_names, "data"), d,
                                      "data")
            self.data = self._cast(background)
            if self._code:
                self._margin_b = self._margins(self.data)
                if self._code == 1:  # logistic
                    self.expected_value_ = np.array([np.mean(1 / (1 + np.exp(-self._margin_b)))])
                else:
                    self.expected_value_ = None  # depends on the labels
            else:
                self._prepare_background(_kernels())
                self.expected_value_ = self._margins(self.data).mean(axis=0)
        else:
            self.expected_value_ = path_expectation + ens.base_offset

    # ----------------------------------------------------------------- helpers
    def _transform_code(self, model_output: str, feature_perturbation: str) -> int:
        """0 for the raw output, else the transform code of the pair kernel."""
        ens = self.ensemble
        if model_output == "raw" or (model_output == "probability" and ens.is_classifier
                                     and ens.link == "identity"):
            return 0
        if model_output == "probability" and not ens.is_classifier:
            raise InputError(describe("model_output", "'raw' or 'log_loss' for a regressor",
                                      model_output, "Probabilities exist only for classifiers."))
        if ens.link == "softmax" or ens.n_outputs != 1:
            raise NotSupportedError(
                describe("model_output", "'raw' for a model with several outputs",
                         model_output, "Transformed outputs are explained for one-output "
                         "models (binary boosted classifiers, regressors) only.")
            )
        if feature_perturbation != "interventional":
            raise NotSupportedError(
                describe("model_output", "'raw' with feature_perturbation="
                         "'tree_path_dependent'", model_output,
                         "Pass background data (interventional) to explain probabilities "
                         "or the loss; path-dependent values explain the log-odds (raw).")
            )
        from whylens.shap._tree_kernels import LOGISTIC, LOGISTIC_LOG_LOSS, SQUARED_LOSS

        if model_output == "probability":
            return LOGISTIC
        return LOGISTIC_LOG_LOSS if ens.is_classifier else SQUARED_LOSS

    def _margins(self, rows: np.ndarray) -> np.ndarray:
        """The trees' raw output (margin) on cast rows, (n, n_outputs)."""
        ens = self.ensemble
        kern = _kernels()
        pred = kern.map_rows(kern.predict, rows, (ens.left, ens.right, ens.feature,
                                                  ens.threshold, ens.default_left, ens.value,
                                                  ens.roots, ens.tree_out, ens.n_outputs),
                             self.n_jobs)
        return pred + ens.base_offset

    def _labels(self, y: Any, n: int) -> np.ndarray:
        """``y`` as float (n,): 0/1 for a classifier (1 = the second class), else the target."""
        if y is None:
            raise InputError(
                describe("y", "the labels of X's rows for model_output='log_loss'", None,
                         "Call explainer(X, y) or shap_values(X, y).")
            )
        arr = np.asarray(y).reshape(-1)
        if arr.shape[0] != n:
            raise InputError(describe("y", f"{n} labels, one per row of X",
                                      got_text=f"{arr.shape[0]} labels"))
        if self.ensemble.is_classifier:
            classes = self.model.classes_
            known = np.isin(arr, classes)
            if not known.all():
                raise InputError(describe("y", f"labels among the model's classes "
                                          f"{classes.tolist()}", arr[~known][:5]))
            return (arr == classes[1]).astype(np.float64)
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InputTypeError(describe("y", "numeric targets", arr)) from exc

    def _cast(self, A: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(A.astype(self.ensemble.input_dtype).astype(np.float64))

    def _prepare_background(self, kern: Any) -> None:
        ens = self.ensemble
        paths = kern.leaf_paths(ens.left, ens.right, ens.feature, ens.threshold,
                                ens.default_left, ens.roots, self._depth)
        leaves, leaf_tree, start, feat, lo, hi, nan_ok = paths
        p_max = int(np.diff(start).max()) if start.shape[0] > 1 else 0
        if p_max > 63:
            raise NotSupportedError(
                describe("model", "at most 63 distinct features on one root-to-leaf path for "
                         "interventional TreeSHAP", got_text=f"{p_max}",
                         fix="Use feature_perturbation='tree_path_dependent'.")
            )
        n_b = self.data.shape[0]
        weights = np.full(n_b, 1.0 / n_b)
        mstart, masks, mweight = kern.background_masks(self.data, weights, start, feat, lo, hi,
                                                       nan_ok, self.n_jobs)
        ca, cb = kern.shapley_coefficients(p_max)
        self._paths = (leaves, leaf_tree, start, feat, lo, hi, nan_ok, mstart, masks, mweight)
        self._coefs = (ca, cb)

    @property
    def expected_value(self) -> float | np.ndarray:
        """The base value: cover-weighted (path-dependent) or background mean of the raw output.

        A float for a one-output model, else an ndarray of shape (n_outputs,).
        """
        ev = self.expected_value_
        if ev is None:
            raise InputError(
                describe("expected_value", "a base value independent of the labels",
                         got_text="model_output='log_loss', whose base value depends on y",
                         fix="Read exp.base_values of explainer(X, y) instead.")
            )
        return float(ev[0]) if ev.shape[0] == 1 else ev.copy()

    def _phi(self, rows: np.ndarray) -> np.ndarray:
        ens = self.ensemble
        kern = _kernels()
        if self.feature_perturbation == "tree_path_dependent":
            return kern.map_rows(kern.path_shap, rows, (
                ens.left, ens.right, ens.feature, ens.threshold, ens.default_left, ens.cover,
                ens.value, ens.roots, ens.tree_out, ens.n_outputs, self._tn, self._tw,
                self._depth), self.n_jobs)
        ca, cb = self._coefs
        return kern.map_rows(kern.interventional_shap, rows, (
            *self._paths, ens.value, ens.tree_out, ens.n_outputs, ca, cb), self.n_jobs)

    def _model_output(self, rows: np.ndarray, frame: Any = None) -> np.ndarray:
        try:
            return model_output(self.model, self.ensemble, rows, frame)
        except Exception as exc:  # the user's model raised on the rows
            raise ModelError(f"model: {type(self.model).__name__} raised on X while the "
                             f"additivity check evaluated it: {exc}") from exc

    def _additivity(self, total: np.ndarray, rows: np.ndarray, labels: np.ndarray | None = None,
                    frame: Any = None) -> tuple[np.ndarray, float]:
        out = self._model_output(rows, frame)
        if self._code:
            out = _transform(self._code, out, labels[:, None])
        gap = np.abs(total - out)
        gap_max = float(gap.max())
        tol = ADDITIVITY_TOL * max(1.0, float(np.abs(out).max()))
        if gap_max > tol:
            row = int(np.unravel_index(np.argmax(gap), gap.shape)[0])
            raise ModelOutputError(
                describe("model", f"SHAP values plus base value equal to the model's output "
                         f"to {tol:.1e}", got_text=f"a gap of {gap_max:.3g} at row {row}",
                         fix="This is a whylens bug for this model; please report it. Pass "
                             "check_additivity=False to get the values anyway.")
            )
        return out, gap_max

    def _transformed(self, rows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values (n, d, 1) and base values (n, 1) of the transformed one-output margin."""
        ens = self.ensemble
        kern = _kernels()
        p_max = max(1, min(self._depth, ens.n_features))
        ca, cb = kern.shapley_coefficients(p_max)
        margin_x = self._margins(rows)[:, 0]
        margin_b = self._margin_b[:, 0]
        phi = kern.map_rows(kern.pair_shap, rows, (
            self.data, margin_b, self._code, ens.left, ens.right, ens.feature, ens.threshold,
            ens.default_left, ens.value, ens.roots, ca, cb, self._depth), self.n_jobs,
            per_row=(margin_x, y), align=1)
        base = _transform(self._code, margin_b[None, :], y[:, None]).mean(axis=1)
        return phi[:, :, None], base[:, None]

    def _values(self, rows: np.ndarray, labels: np.ndarray, progress: bool | None,
                callback: Callable[[int, int], Any] | None) -> tuple[np.ndarray, np.ndarray]:
        """Values (n, d, k) and base values (n, k), :data:`ROW_BLOCK` rows per pass.

        The passes go through :meth:`Model.call_chunked` (the runner's
        progress bar, callback and cancellation between passes).
        """
        n, d, k = rows.shape[0], self.ensemble.n_features, self.ensemble.n_outputs
        _kernels()  # a missing numba is reported as such, not as the passes' error

        def block(idx: np.ndarray) -> np.ndarray:
            a, b = int(idx[0]), int(idx[-1]) + 1
            if self._code:
                phi, base = self._transformed(rows[a:b], labels[a:b])
                base = np.broadcast_to(base, (b - a, k))
            else:
                phi = self._phi(rows[a:b])
                base = np.broadcast_to(self.expected_value_, (b - a, k))
            return np.hstack([phi.reshape(b - a, d * k), base])

        passes = Model(block, chunk_size=ROW_BLOCK, name="TreeSHAP", probe_chunks=False)
        out = passes.call_chunked(n, lambda a, b: np.arange(a, b), sample=np.arange(1),
                                  progress=progress, callback=callback)
        return out[:, : d * k].reshape(n, d, k), out[:, d * k :]

    def _explain(self, X: Any, y: Any = None, target: Any = ALL,
                 progress: bool | None = None, callback: Any = None
                 ) -> tuple[Explanation, bool]:
        callback = checked_callback(callback)
        ens = self.ensemble
        X = _frame_columns(X, ens.feature_names, "X")
        frame = X if is_dataframe(X) else None
        A, single = _as_table(X, ens.n_features, "X")
        rows = self._cast(A)
        labels = np.zeros(rows.shape[0])
        if self.model_output == "log_loss":
            labels = self._labels(y, rows.shape[0])
        phi, base = self._values(rows, labels, progress, callback)
        total = phi.sum(axis=1) + base
        n_evals = 0
        if self.check_additivity:
            output, gap = self._additivity(total, A, labels, frame)
            n_evals = rows.shape[0]
        else:
            output, gap = total, float("nan")
        explained, values, base = select_target(target, np.moveaxis(phi, 2, 1), base, output,
                                                ens.output_names)
        params = {"explainer": "TreeExplainer", "model": ens.model_name,
                  "feature_perturbation": self.feature_perturbation,
                  "model_output": self.model_output,
                  "n_background": 0 if self.data is None else int(self.data.shape[0]),
                  "efficiency_max_abs_error": gap}
        exp = Explanation(
            values=values, labels=explained, method=self.method,
            features=Features(kind="tabular", names=list(self.feature_names), data=A),
            mode="classification" if ens.is_classifier else "regression",
            output=output, output_names=ens.output_names, base_values=base, params=params,
            n_evals=int(n_evals),
        )
        return exp, single

    # ------------------------------------------------------------------ surface
    def __call__(self, X: Any, y: Any = None, *, target: Any = ALL,
                 progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain every row of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, n_features)
            A DataFrame's columns are matched to the model's by name (when it
            was fitted on one) and the additivity check calls the model with it.
        y : array-like of shape (n,), optional
            The rows' labels (class labels or targets); needed only with
            ``model_output="log_loss"``.
        target : "all", None, int, str or a length-n sequence, default="all"
            Which outputs to keep: every output (shap's behaviour, the default;
            TreeSHAP computes them all at once), each row's largest output
            (``None``), one output for every row (index or class name), or one
            per row (a length-n sequence).
        progress : bool, optional
            A tqdm bar over the rows (when they take several passes of
            :data:`ROW_BLOCK` rows; default: when stderr is a terminal).
        callback : callable, optional
            ``callback(rows_done, rows_total)`` after every pass; raising
            :class:`~whylens.errors.Cancelled` or returning ``False`` stops.

        Returns
        -------
        Explanation
            ``values`` of shape (n, n_labels, n_features), ``base_values``
            (n, n_labels), ``output`` (n, n_outputs) the model's raw output,
            ``features.data`` the rows. ``params["efficiency_max_abs_error"]``
            is the largest ``|sum(values) + base - output|`` over every output.

        Raises
        ------
        InputError
            When ``X`` does not have the model's columns, or a bad ``target``.
        ModelOutputError
            When additivity fails (a whylens bug; ``check_additivity=False``).
        Cancelled
            The callback stopped the work.
        """
        return self._explain(X, y, target, progress, callback)[0]

    def explain(self, X: Any, y: Any = None, **kwargs: Any) -> Explanation:
        """Same as calling the explainer."""
        return self(X, y, **kwargs)

    def shap_values(self, X: Any, y: Any = None, *, target: Any = ALL,
                    progress: bool | None = None,
                    callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
        """SHAP values in shap's layout (``y``: labels, for ``model_output="log_loss"``).

        Returns
        -------
        ndarray
            (n, n_features) for one explained output, (n, n_features, n_labels)
            otherwise; without the first axis when ``X`` is a single row.
        """
        exp, single = self._explain(X, y, target, progress, callback)
        values = np.moveaxis(exp.values, 1, -1)
        values = values[..., 0] if values.shape[-1] == 1 else values
        return values[0] if single else values

    def shap_interaction_values(self, X: Any) -> np.ndarray:
        """Path-dependent SHAP interaction values (Shapley interaction index).

        ``[i, a, b]`` (a != b) is half the interaction of features a and b,
        so each pair's effect is split between ``[a, b]`` and ``[b, a]``;
        ``[i, a, a]`` is a's main effect. Rows sum to the SHAP values:
        ``values.sum(axis=2) == shap_values(X)``. Cost: one tree pass per row
        and per feature the trees use.

        Returns
        -------
        ndarray
            (n, d, d) for a one-output model, (n, d, d, n_outputs) otherwise;
            without the first axis when ``X`` is a single row.

        Raises
        ------
        NotSupportedError
            With ``feature_perturbation="interventional"``.
        """
        if self.feature_perturbation != "tree_path_dependent":
            raise NotSupportedError(
                describe("feature_perturbation", "'tree_path_dependent' for interaction "
                         "values", self.feature_perturbation,
                         "Build TreeExplainer(model) without data for interaction values.")
            )
        ens = self.ensemble
        A, single = _as_table(X, ens.n_features, "X")
        rows = self._cast(A)
        kern = _kernels()
        out = kern.map_rows(kern.path_interactions, rows, (
            ens.left, ens.right, ens.feature, ens.threshold, ens.default_left, ens.cover,
            ens.value, ens.roots, ens.tree_out, ens.n_outputs, self._tn, self._tw, self._depth,
            ens.used_features), self.n_jobs)
        if self.check_additivity:
            total = out.sum(axis=(1, 2)) + self.expected_value_
            self._additivity(total, A)
        out = out[..., 0] if out.shape[-1] == 1 else out
        return out[0] if single else out
