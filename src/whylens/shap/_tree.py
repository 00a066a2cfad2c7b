"""TreeSHAP for scikit-learn tree ensembles: exact, path-dependent and interventional.

The explainer class; the trees are read in :mod:`whylens.shap._tree_models`, the
options, rows and labels checked in :mod:`whylens.shap._tree_inputs`, the output
transforms and the additivity check live in :mod:`whylens.shap._tree_outputs`, and
the numba kernels in ``_tree_path``, ``_tree_interventional`` and ``_tree_rows``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import ALL, checked_callback
from whylens._validation import check_names
from whylens.errors import InputError, NotSupportedError, describe
from whylens.explanation import Explanation, Features
from whylens.models import Model
from whylens.models._frames import is_dataframe
from whylens.shap._target import select_target, shap_layout
from whylens.shap._tree_inputs import as_table, check_labels, check_options, frame_columns
from whylens.shap._tree_models import FlatEnsemble, read_model
from whylens.shap._tree_outputs import (
    ADDITIVITY_TOL,
    depth_and_expectation,
    kernels,
    transform,
    transform_code,
    verify_additivity,
)

__all__ = ["ADDITIVITY_TOL", "ROW_BLOCK", "TreeExplainer"]

#: Rows explained per pass of the compiled kernels (each pass split over the threads);
#: the callback is called and cancellation checked between passes.
ROW_BLOCK = 1 << 14


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
        feature_perturbation = check_options(feature_perturbation, model_output, n_jobs, data)
        self.model = model
        self.ensemble: FlatEnsemble = read_model(model)
        ens = self.ensemble
        self._code = transform_code(ens, model_output, feature_perturbation)
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
        self._depth, path_expectation = depth_and_expectation(ens)
        # Gauss-Legendre on [0, 1], exact for the path polynomials (degree < unique features).
        n_gl = max(1, math.ceil(min(self._depth, d) / 2))
        nodes, weights = np.polynomial.legendre.leggauss(n_gl)
        self._tn = np.ascontiguousarray((nodes + 1.0) / 2.0)
        self._tw = np.ascontiguousarray(weights / 2.0)
        self.data = None
        if feature_perturbation == "interventional":
            background, _ = as_table(frame_columns(data, ens.feature_names, "data"), d, "data")
            self.data = self._cast(background)
            if self._code:
                self._margin_b = self._margins(self.data)
                if self._code == 1:  # logistic
                    self.expected_value_ = np.array([np.mean(1 / (1 + np.exp(-self._margin_b)))])
                else:
                    self.expected_value_ = None  # depends on the labels
            else:
                self._prepare_background(kernels())
                self.expected_value_ = self._margins(self.data).mean(axis=0)
        else:
            self.expected_value_ = path_expectation + ens.base_offset

    # ----------------------------------------------------------------- helpers
    def _margins(self, rows: np.ndarray) -> np.ndarray:
        """The trees' raw output (margin) on cast rows, (n, n_outputs)."""
        ens = self.ensemble
        kern = kernels()
        pred = kern.map_rows(kern.predict, rows, (ens.left, ens.right, ens.feature,
                                                  ens.threshold, ens.default_left, ens.value,
                                                  ens.roots, ens.tree_out, ens.n_outputs),
                             self.n_jobs)
        return pred + ens.base_offset

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
        kern = kernels()
        if self.feature_perturbation == "tree_path_dependent":
            return kern.map_rows(kern.path_shap, rows, (
                ens.left, ens.right, ens.feature, ens.threshold, ens.default_left, ens.cover,
                ens.value, ens.roots, ens.tree_out, ens.n_outputs, self._tn, self._tw,
                self._depth), self.n_jobs)
        ca, cb = self._coefs
        return kern.map_rows(kern.interventional_shap, rows, (
            *self._paths, ens.value, ens.tree_out, ens.n_outputs, ca, cb), self.n_jobs)

    def _transformed(self, rows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values (n, d, 1) and base values (n, 1) of the transformed one-output margin."""
        ens = self.ensemble
        kern = kernels()
        p_max = max(1, min(self._depth, ens.n_features))
        ca, cb = kern.shapley_coefficients(p_max)
        margin_x = self._margins(rows)[:, 0]
        margin_b = self._margin_b[:, 0]
        phi = kern.map_rows(kern.pair_shap, rows, (
            self.data, margin_b, self._code, ens.left, ens.right, ens.feature, ens.threshold,
            ens.default_left, ens.value, ens.roots, ca, cb, self._depth), self.n_jobs,
            per_row=(margin_x, y), align=1)
        base = transform(self._code, margin_b[None, :], y[:, None]).mean(axis=1)
        return phi[:, :, None], base[:, None]

    def _values(self, rows: np.ndarray, labels: np.ndarray, progress: bool | None,
                callback: Callable[[int, int], Any] | None) -> tuple[np.ndarray, np.ndarray]:
        """Values (n, d, k) and base values (n, k), :data:`ROW_BLOCK` rows per pass.

        The passes go through :meth:`Model.call_chunked` (the runner's
        progress bar, callback and cancellation between passes).
        """
        n, d, k = rows.shape[0], self.ensemble.n_features, self.ensemble.n_outputs
        kernels()  # a missing numba is reported as such, not as the passes' error

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
        X = frame_columns(X, ens.feature_names, "X")
        frame = X if is_dataframe(X) else None
        A, single = as_table(X, ens.n_features, "X")
        rows = self._cast(A)
        labels = np.zeros(rows.shape[0])
        if self.model_output == "log_loss":
            labels = check_labels(y, rows.shape[0], ens, self.model)
        phi, base = self._values(rows, labels, progress, callback)
        total = phi.sum(axis=1) + base
        n_evals = 0
        if self.check_additivity:
            output, gap = verify_additivity(self.model, ens, total, A, self._code, labels, frame)
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
        return shap_layout(*self._explain(X, y, target, progress, callback))

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
        A, single = as_table(X, ens.n_features, "X")
        rows = self._cast(A)
        kern = kernels()
        out = kern.map_rows(kern.path_interactions, rows, (
            ens.left, ens.right, ens.feature, ens.threshold, ens.default_left, ens.cover,
            ens.value, ens.roots, ens.tree_out, ens.n_outputs, self._tn, self._tw, self._depth,
            ens.used_features), self.n_jobs)
        if self.check_additivity:
            total = out.sum(axis=(1, 2)) + self.expected_value_
            verify_additivity(self.model, ens, total, A)
        out = out[..., 0] if out.shape[-1] == 1 else out
        return out[0] if single else out
