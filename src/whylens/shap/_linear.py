"""Closed-form Shapley values of linear models (and logistic regression in log-odds)."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import ALL, checked_callback
from whylens._validation import check_names, check_random_state, random_state_param
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.shap._explainer_base import EfficiencyWarning
from whylens.shap._linear_orderings import exact_transform, sampled_transform
from whylens.shap._maskers import TabularMasker
from whylens.shap._target import select_target

__all__ = ["LinearExplainer"]

_PERTURBATIONS = ("interventional", "correlation_dependent")
#: Up to this many features the correlation-dependent transform is computed exactly.
EXACT_TRANSFORM_FEATURES = 12
#: Eigenvalues of the background covariance below this fraction of the largest count as 0.
_RCOND = 1e-10


def _coefficients(model: Any) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """(coef (k, d), intercept (k,), output names) of a linear model."""
    if isinstance(model, tuple) and len(model) == 2:
        coef, intercept = model
        names = None
    elif hasattr(model, "coef_"):
        coef, intercept = model.coef_, getattr(model, "intercept_", 0.0)
        classes = getattr(model, "classes_", None)
        names = None
        if classes is not None:
            names = [str(classes[1])] if len(classes) == 2 else [str(c) for c in classes]
    else:
        raise InputTypeError(
            describe("model", "a fitted linear scikit-learn model (with coef_ and intercept_) "
                     "or a (coef, intercept) tuple", got_text=f"{type(model).__name__}",
                     fix="For other models use whylens.shap.KernelExplainer or ExactExplainer.")
        )
    coef = np.asarray(coef, dtype=np.float64)
    coef = coef[None, :] if coef.ndim == 1 else coef
    intercept = np.broadcast_to(np.asarray(intercept, dtype=np.float64).reshape(-1),
                                (coef.shape[0],)).copy()
    if coef.ndim != 2 or not np.isfinite(coef).all() or not np.isfinite(intercept).all():
        raise InputError(describe("model", "finite coefficients of shape (n_outputs, d)", coef))
    return coef, intercept, names


def _row_maps(coef: np.ndarray, cov: np.ndarray, subset: np.ndarray, singular: bool = False
              ) -> np.ndarray:
    """The game's linear map ``v(S) - v({}) = r_S (x - mean)``, per output: (k, d).

    ``v(S) = c^T x'`` with ``x'_S = x_S`` and ``x'_rest = E[x_rest | x_S] =
    mu_rest + C[rest, S] C[S, S]^-1 (x_S - mu_S)``, so ``r_S`` is ``c_S +
    C[S, S]^-1 C[S, rest] c_rest`` on S's columns. With a singular covariance
    (a background with no more rows than features) the inverse is the
    pseudo-inverse (the least-squares regression of the rest on ``x_S``):
    ``x_S`` itself is still kept, so ``v(all) = f(x)`` and the values add up
    to the output exactly.
    """
    d = cov.shape[0]
    out = np.zeros((coef.shape[0], d))
    if subset.size == 0:
        return out
    rest = np.setdiff1d(np.arange(d), subset, assume_unique=True)
    out[:, subset] = coef[:, subset]
    if rest.size == 0:
        return out
    css = cov[np.ix_(subset, subset)]
    rhs = cov[np.ix_(subset, rest)] @ coef[:, rest].T  # (|S|, k)
    if singular:
        sol = np.linalg.pinv(css, rcond=_RCOND, hermitian=True) @ rhs
    else:
        try:
            sol = np.linalg.solve(css, rhs)
        except np.linalg.LinAlgError:
            sol = np.linalg.pinv(css, rcond=_RCOND, hermitian=True) @ rhs
    out[:, subset] += sol.T
    return out


def is_singular(cov: np.ndarray) -> bool:
    """Whether ``cov`` has rank below its size (relative tolerance ``_RCOND``)."""
    eig = np.linalg.eigvalsh(cov)
    return bool(eig.size) and bool(eig.min() <= _RCOND * max(float(eig.max()), 0.0))


def correlation_transform(coef: np.ndarray, cov: np.ndarray, nsamples: int | None,
                          rng: np.random.Generator, factor: np.ndarray | None = None
                          ) -> np.ndarray:
    """Transforms ``T`` (k, d, d) with ``phi_k(x) = T_k (x - mean)``.

    Shapley values of the game ``v(S) = c^T E[x | x_S]`` under a Gaussian with
    covariance ``cov``: ``E[x | x_S] = mu + C[:, S] C[S, S]^-1 (x_S - mu_S)``.
    Exact enumeration of every subset, batched by size, when ``nsamples`` is
    None (:func:`whylens.shap._linear_orderings.exact_transform`), otherwise
    ``nsamples`` antithetic random orderings, whose prefixes are advanced
    together (:func:`whylens.shap._linear_orderings.sampled_transform`).
    ``factor`` (p, d), optional, has ``factor^T factor = cov`` (the weighted
    centred background); with ``p < d`` it makes the large singular prefixes
    cheap.
    """
    d = coef.shape[1]
    singular = is_singular(cov)
    if nsamples is None:
        return exact_transform(coef, cov, singular, _RCOND)
    half = max(1, nsamples // 2)
    base = rng.permuted(np.tile(np.arange(d), (half, 1)), axis=1)
    orders = np.concatenate([base, base[:, ::-1]])
    return sampled_transform(coef, cov, orders, singular, _RCOND, factor)


class LinearExplainer:
    """Shapley values of a linear model in closed form, vectorised over rows.

    For ``f(x) = coef @ x + intercept`` (a logistic regression is explained in
    log-odds, its ``decision_function``):

    - ``"interventional"``: ``phi_j = coef_j (x_j - E[x_j])``, features
      treated as independent (the background's mean);
    - ``"correlation_dependent"``: the Shapley values of
      ``v(S) = f(E[x | x_S])`` under a Gaussian with the background's
      covariance, ``phi = T (x - E[x])`` with a transform ``T`` computed once:
      exactly over all subsets for d <= 12, else by ``nsamples`` antithetic
      orderings. The known features keep their values (``x_S``); with a
      singular covariance (a background with no more rows than features, or a
      constant column) ``C[S, S]^-1`` is the pseudo-inverse, so the values
      still add up to the output, and a one-row background gives the
      interventional values.

    Whenever the values miss efficiency (sum of values + base value != output,
    beyond rounding), an :class:`~whylens.shap.EfficiencyWarning` is issued
    and ``params["efficiency_max_abs_error"]`` holds the gap.

    Parameters
    ----------
    model : fitted scikit-learn linear model or (coef, intercept)
        ``coef_`` of shape (d,) or (n_outputs, d).
    masker : array-like or DataFrame of shape (n_background, d), or TabularMasker
        Background; its (weighted) mean and covariance are used. A DataFrame's
        columns are the default feature names.
    feature_perturbation : {"interventional", "correlation_dependent"}
    nsamples : int, default=1000
        Orderings for the correlation-dependent transform when d > 12.
    feature_names : sequence of str, optional
    random_state : int or numpy.random.Generator, optional

    Attributes
    ----------
    coef : ndarray of shape (n_outputs, d)
    intercept : ndarray of shape (n_outputs,)
    mean : ndarray of shape (d,)
    expected_value : float or ndarray of shape (n_outputs,)
    """

    method = "shap.linear"

    def __init__(self, model: Any, masker: Any,
                 feature_perturbation: str = "interventional", *, nsamples: int = 1000,
                 feature_names: Sequence[str] | None = None,
                 random_state: int | np.random.Generator | None = None) -> None:
        if feature_perturbation not in _PERTURBATIONS:
            raise InputError(describe("feature_perturbation", f"one of {_PERTURBATIONS}",
                                      feature_perturbation))
        if isinstance(nsamples, bool) or not isinstance(nsamples, numbers.Integral) \
                or nsamples < 2:
            raise InputError(describe("nsamples", "an int >= 2", nsamples))
        self.coef, self.intercept, self.output_names = _coefficients(model)
        if not isinstance(masker, TabularMasker):
            # A linear model's cost does not grow with the background: keep every row.
            masker = TabularMasker(masker, feature_names=feature_names, max_background=None)
        d = self.coef.shape[1]
        if masker.n_features != d:
            raise InputError(
                describe("masker", f"a background with {d} columns (the model's coef_)",
                         got_text=f"{masker.n_features} columns")
            )
        self.masker = masker
        self.feature_names = check_names(
            "feature_names", feature_names if feature_names is not None
            else masker.feature_names, d, "x")
        self.feature_perturbation = feature_perturbation
        self.nsamples = int(nsamples)
        self.random_state = random_state
        w = masker.weights
        self.mean = w @ masker.data
        self.expected_value_ = self.coef @ self.mean + self.intercept
        self.transform = None
        if feature_perturbation == "correlation_dependent":
            centred = masker.data - self.mean
            self.cov = (centred * w[:, None]).T @ centred
            exact = d <= EXACT_TRANSFORM_FEATURES
            self.transform = correlation_transform(
                self.coef, self.cov, None if exact else self.nsamples,
                check_random_state(random_state), factor=np.sqrt(w)[:, None] * centred)

    @property
    def expected_value(self) -> float | np.ndarray:
        """``coef @ E[x] + intercept``; a float for one output."""
        ev = self.expected_value_
        return float(ev[0]) if ev.shape[0] == 1 else ev.copy()

    def __call__(self, X: Any, *, target: Any = ALL, progress: bool | None = None,
                 callback: Callable[[int, int], Any] | None = None) -> Explanation:
        """Explain the rows of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n, d)
        target : "all", None, int, str or a length-n sequence, default="all"
            Which outputs to explain: every output (shap's behaviour, the
            default), each row's largest output (``None``), one output for every
            row (index or name), or one per row (a length-n sequence).
        progress : bool, optional
            Accepted for the calling convention; the values are one matrix
            product, so there is nothing to show.
        callback : callable, optional
            ``callback(n, n)`` once the rows are explained; returning ``False``
            (or raising :class:`~whylens.errors.Cancelled`) discards the result.

        Returns
        -------
        Explanation
            ``values`` (n, n_labels, d); ``output`` is ``coef @ x + intercept``
            (log-odds for a logistic regression), (n, n_outputs).

        Raises
        ------
        InputError, InputTypeError
            Bad ``X`` or ``target``.
        Cancelled
            The callback returned ``False``.
        """
        return self._explain(X, target, callback)[0]

    def shap_values(self, X: Any, *, target: Any = ALL, progress: bool | None = None,
                    callback: Callable[[int, int], Any] | None = None) -> np.ndarray:
        """Shapley values in shap's layout: (n, d) for one output, else (n, d, n_labels)."""
        exp, single = self._explain(X, target, callback)
        values = exp.shap_values
        return values[0] if single else values

    def _explain(self, X: Any, target: Any = ALL, callback: Any = None
                 ) -> tuple[Explanation, bool]:
        callback = checked_callback(callback)
        rows, single = self.masker.rows(X)
        centred = rows - self.mean
        if self.transform is None:
            values = centred[:, None, :] * self.coef[None, :, :]
        else:
            values = np.einsum("kjd,nd->nkj", self.transform, centred)
        output = rows @ self.coef.T + self.intercept
        base = np.tile(self.expected_value_, (rows.shape[0], 1))
        gap = float(np.abs(values.sum(-1) + base - output).max()) if rows.shape[0] else 0.0
        scale = 1.0 + float(np.abs(output).max(initial=0.0)) + float(np.abs(base).max(initial=0.0))
        if not gap <= 1e-8 * scale:
            warnings.warn(
                f"LinearExplainer: Shapley values miss efficiency by {gap:.3g} (sum of values "
                "+ base value != model output); the background's covariance may be "
                "numerically unstable.", EfficiencyWarning, stacklevel=3)
        labels, values, base = select_target(target, values, base, output, self.output_names)
        if callback is not None:
            callback(rows.shape[0], rows.shape[0])
        params = {"explainer": "LinearExplainer",
                  "feature_perturbation": self.feature_perturbation,
                  "nsamples": self.nsamples,
                  "random_state": random_state_param(self.random_state),
                  "efficiency_max_abs_error": gap}
        exp = Explanation(
            values=values, labels=labels, method=self.method,
            features=Features(kind="tabular", names=list(self.feature_names), data=rows),
            mode="regression" if self.coef.shape[0] == 1 else "classification",
            output=output, output_names=self.output_names, base_values=base, params=params,
            n_evals=0,
        )
        return exp, single
