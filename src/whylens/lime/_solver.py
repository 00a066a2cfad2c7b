"""The modality-free LIME solver: kernel weights, feature selection, weighted ridge.

It takes the interpretable samples ``Z`` (n_samples, n_features), the model's
outputs and the kernel weights, and returns a typed :class:`SurrogateFit`
per label. The feature-selection modes mean what they mean in
``lime.lime_base.LimeBase``; the ridge fits are solved in closed form from one
weighted Gram matrix shared by every label and every candidate feature set,
instead of one scikit-learn fit per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from whylens._workspace import scratch
from whylens.errors import InputError, InputTypeError, describe

__all__ = [
    "FEATURE_SELECTION",
    "LimeSolver",
    "SurrogateFit",
    "exponential_kernel",
]

FEATURE_SELECTION = ("auto", "forward_selection", "lasso_path", "highest_weights", "none")


def exponential_kernel(distances: np.ndarray, kernel_width: float) -> np.ndarray:
    """LIME's kernel: ``sqrt(exp(-d**2 / width**2))``, computed as
    ``exp(-d**2 / (2 width**2))`` in one new array: the same to a few
    rounding errors, except far in the tail (d / width above about 27), where
    lime's ``exp`` underflows to 0 before its square root and this gives a
    weight below 1e-160.

    Parameters
    ----------
    distances : float or ndarray of shape (n_samples,)
    kernel_width : float

    Returns
    -------
    float or ndarray of shape (n_samples,)
    """
    out = np.array(distances, dtype=np.float64)
    np.square(out, out=out)
    out *= -0.5 / kernel_width**2
    np.exp(out, out=out)
    return out if out.ndim else out[()]


def check_feature_selection(value: Any) -> str:
    """Return ``value`` if it is a known feature-selection mode.

    Raises
    ------
    InputError
        For an unknown mode (lime silently returns None there).
    """
    if value not in FEATURE_SELECTION:
        raise InputError(
            describe("feature_selection", f"one of {FEATURE_SELECTION}", value,
                     "'auto' uses forward_selection up to 6 features, else highest_weights.")
        )
    return value


@dataclass(frozen=True)
class SurrogateFit:
    """A weighted linear surrogate of one model output.

    Attributes
    ----------
    used : ndarray of int, shape (k,)
        Selected feature indices, in the order the selection chose them.
    coef : ndarray of shape (k,)
        Surrogate coefficients of the ``used`` features.
    intercept : float
    score : float
        Weighted R² of the surrogate on the samples.
    local_prediction : float
        Surrogate prediction at the explained instance (row 0 of ``Z`` unless
        another row was given).
    """

    used: np.ndarray
    coef: np.ndarray
    intercept: float
    score: float
    local_prediction: float

    def dense(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(coefficients (n_features,), selected mask (n_features,))``."""
        values = np.zeros(n_features)
        values[self.used] = self.coef
        mask = np.zeros(n_features, dtype=bool)
        mask[self.used] = True
        return values, mask


def _centered_gram(Z: np.ndarray, weights: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``(Z - mean)' diag(weights) (Z - mean)``, shape (d, d), through one
    symmetric matrix product on a reused scratch array (see
    :mod:`whylens._workspace`), laid out as ``Z`` is (the samplers build ``Z``
    column-major), so that centring and weighting are contiguous passes."""
    if Z.flags.c_contiguous:
        with scratch(Z.shape, slot="lime.gram") as scaled:
            np.subtract(Z, mean, out=scaled)
            np.multiply(scaled, np.sqrt(weights)[:, None], out=scaled)
            return scaled.T @ scaled
    Zt = Z.T
    with scratch(Zt.shape, slot="lime.gram") as scaled:
        np.subtract(Zt, mean[:, None], out=scaled)
        np.multiply(scaled, np.sqrt(weights), out=scaled)
        return scaled @ scaled.T


def _solve_spd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return scipy.linalg.solve(a, b, assume_a="pos", check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        return np.linalg.lstsq(a, b, rcond=None)[0]


class LimeSolver:
    """Weighted linear surrogates over one sample matrix, for any number of labels.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_features)
        Interpretable samples; row 0 is the explained instance (as in lime).
    weights : ndarray of shape (n_samples,)
        Kernel weights (non-negative, not all zero).
    instance : ndarray of shape (n_features,), optional
        Where ``local_prediction`` is evaluated; defaults to ``Z[0]``.
    overwrite_samples : bool, default=False
        Let the solver centre and weight ``Z`` in place (a writable C- or
        F-contiguous float64 array that the caller no longer needs): no second
        array of ``Z``'s size, one pass less. :attr:`Z` is then None, and
        :meth:`fit` refuses a ``model_regressor`` (it needs the raw samples).
        A read-only or non-contiguous ``Z`` is left alone and kept, as without
        this option.

    Raises
    ------
    InputError
        For mismatched shapes, negative or all-zero weights, or non-finite values.
    """

    def __init__(self, Z: np.ndarray, weights: np.ndarray,
                 instance: np.ndarray | None = None, *, overwrite_samples: bool = False
                 ) -> None:
        Z = np.asarray(Z, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        if Z.ndim != 2 or Z.shape[0] < 1:
            raise InputError(describe("Z", "a 2-D array (n_samples, n_features)", Z))
        if weights.shape[0] != Z.shape[0]:
            raise InputError(describe("weights", f"{Z.shape[0]} weights (one per sample)",
                                      weights))
        if not (np.isfinite(Z).all() and np.isfinite(weights).all()):
            raise InputError(describe("Z/weights", "finite values",
                                      got_text="NaN or infinity"))
        if (weights < 0).any() or weights.sum() <= 0:
            raise InputError(describe("weights", "non-negative weights with a positive sum",
                                      got_text=f"min {weights.min()}, sum {weights.sum()}",
                                      fix="Widen kernel_width so samples get weight."))
        self.weights = weights
        self._z0 = Z[0].copy()
        # A copy: ``instance`` may be a view of Z (Z[0]), which overwriting centres.
        self.instance = self._z0 if instance is None else np.array(instance,
                                                                    dtype=np.float64)
        self.n_samples, self.n_features = Z.shape
        self._sw = float(weights.sum())
        self._x_mean = weights @ Z / self._sw
        # Either Z (moments by matrix-vector products on it) or, when it may be
        # overwritten, Xs = (Z - mean) sqrt(w) in its memory, from which the
        # Gram matrix, the moments and lasso_path's design all follow.
        self._scaled: np.ndarray | None = None
        self.Z: np.ndarray | None = Z
        if overwrite_samples and Z.flags.writeable and (Z.flags.c_contiguous
                                                        or Z.flags.f_contiguous):
            self._sqrt_w = np.sqrt(weights)
            Z -= self._x_mean
            Z *= self._sqrt_w[:, None]
            self._scaled, self.Z = Z, None
            self._gram = Z.T @ Z  # symmetric product (BLAS syrk)
        else:
            self._gram = _centered_gram(Z, weights, self._x_mean)  # Xc' W Xc

    def _moments(self, y: np.ndarray) -> tuple[float, np.ndarray, float]:
        """Weighted mean of ``y``, ``Xc' W (y - mean)`` of shape (n_features,)
        and ``(y - mean)' W (y - mean)``, from matrix-vector products (no
        centred copy of ``Z``). :meth:`fit` computes them once and hands them
        to the selection and the final fit."""
        w = self.weights
        if y.size and y.min() == y.max():
            # A constant output: no variance to explain (rounding in the weighted
            # mean would leave a spurious one of ~1e-30 and a score of 0 instead
            # of lime's and scikit-learn's 1).
            return float(y[0]), np.zeros(self.n_features), 0.0
        y_mean = float(w @ y) / self._sw
        yc = y - y_mean
        wy = w * yc
        syy = float(wy @ yc)
        if self._scaled is not None:
            b = (yc * self._sqrt_w) @ self._scaled
        else:
            b = self.Z.T @ wy - self._x_mean * float(wy.sum())
        return y_mean, b, syy

    def _sub_gram(self, features: np.ndarray) -> np.ndarray:
        """A new array of the Gram matrix's rows and columns ``features``, (k, k)
        (two takes: a tenth of ``np.ix_``'s cost at this size)."""
        return self._gram.take(features, axis=0).take(features, axis=1)

    # -- the one ridge every mode uses -----------------------------------------
    def _ridge(self, moments: tuple[float, np.ndarray, float], features: np.ndarray,
               alpha: float) -> tuple[np.ndarray, float]:
        """Weighted ridge (centred intercept) on a feature subset, closed form."""
        y_mean, b, _ = moments
        if features.size == 0:
            return np.zeros(0), y_mean
        gram = self._sub_gram(features)
        if alpha > 0:
            # Positive definite (eigenvalues >= alpha): LU is as accurate here
            # and numpy's call costs a third of scipy's.
            gram.flat[:: features.size + 1] += alpha
            coef = np.linalg.solve(gram, b[features])
        else:
            coef = _solve_spd(gram, b[features])
        intercept = y_mean - float(self._x_mean[features] @ coef)
        return coef, intercept

    # -- feature selection ---------------------------------------------------
    def _forward_selection(self, moments: tuple[float, np.ndarray, float],
                           num_features: int) -> np.ndarray:
        """Greedy forward selection by weighted R² of an unregularised fit.

        Uses the Schur-complement update of the explained sum of squares, so
        every candidate of a step is scored in one vectorised expression.
        """
        _, b, _ = moments  # Xc' W yc, shape (d,)
        gram = self._gram
        used: list[int] = []
        diag = np.diag(gram)
        tol = 1e-12 * max(float(diag.max(initial=0.0)), 1e-300)
        for _ in range(min(num_features, self.n_features)):
            if used:
                s = np.asarray(used)
                inv_gs_b = _solve_spd(self._sub_gram(s), np.column_stack(
                    [b[s], gram[s, :]]))
                proj_b = b - gram[:, s] @ inv_gs_b[:, 0]
                proj_diag = diag - np.einsum("ij,ji->i", gram[:, s], inv_gs_b[:, 1:])
            else:
                proj_b, proj_diag = b, diag
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = np.where(proj_diag > tol, proj_b**2 / proj_diag, 0.0)
            gain[used] = -np.inf
            used.append(int(np.argmax(gain)))
        return np.asarray(used, dtype=np.int64)

    def _highest_weights(self, moments: tuple[float, np.ndarray, float],
                         num_features: int) -> np.ndarray:
        coef, _ = self._ridge(moments, np.arange(self.n_features), alpha=0.01)
        weighted = coef * self._z0
        order = np.argsort(-np.abs(weighted), kind="stable")
        return order[:num_features].astype(np.int64)

    def _lasso_path(self, y: np.ndarray, num_features: int) -> np.ndarray:
        from sklearn.linear_model import lars_path

        w = self.weights
        sqrt_w = np.sqrt(w)
        x = self._scaled if self._scaled is not None else \
            (self.Z - np.average(self.Z, axis=0, weights=w)) * sqrt_w[:, None]
        t = (y - np.average(y, weights=w)) * sqrt_w
        _, _, coefs = lars_path(x, t, method="lasso", verbose=False)
        nonzero = np.arange(x.shape[1])
        for i in range(coefs.shape[1] - 1, 0, -1):
            nonzero = coefs[:, i].nonzero()[0]
            if len(nonzero) <= num_features:
                break
        return nonzero.astype(np.int64)

    def _r2(self, moments: tuple[float, np.ndarray, float], used: np.ndarray,
            coef: np.ndarray) -> float:
        """Weighted R² of the fit ``coef`` on ``used`` with its centred intercept,
        from the moments: the weighted residual sum of squares is
        ``syy - 2 coef'b + coef' G coef`` (no prediction pass over the samples);
        finite as scikit-learn's ``r2_score`` (force_finite)."""
        _, b, syy = moments
        g = self._sub_gram(used)
        rss = max(syy - 2.0 * float(coef @ b[used]) + float(coef @ g @ coef), 0.0)
        if syy == 0.0:
            return 1.0 if rss == 0.0 else 0.0
        return 1.0 - rss / syy

    def select(self, y: np.ndarray, num_features: int, method: str) -> np.ndarray:
        """Return the indices of the features ``method`` selects for output ``y``.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
        num_features : int
        method : {"auto", "forward_selection", "lasso_path", "highest_weights", "none"}

        Returns
        -------
        ndarray of int, shape (k,)
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        return self._select(y, self._moments(y), num_features, method)

    def _select(self, y: np.ndarray, moments: tuple[float, np.ndarray, float],
                num_features: int, method: str) -> np.ndarray:
        """:meth:`select`, given ``y``'s moments (:meth:`_moments`)."""
        check_feature_selection(method)
        if method == "none":
            return np.arange(self.n_features, dtype=np.int64)
        if method == "auto":
            method = "forward_selection" if num_features <= 6 else "highest_weights"
        if method == "lasso_path":
            return self._lasso_path(y, num_features)
        if method == "forward_selection":
            return self._forward_selection(moments, num_features)
        return self._highest_weights(moments, num_features)

    def fit(
        self,
        y: np.ndarray,
        num_features: int,
        feature_selection: str = "auto",
        model_regressor: Any = None,
    ) -> SurrogateFit:
        """Fit the surrogate of one model output.

        Parameters
        ----------
        y : ndarray of shape (n_samples,)
            The model's output for the label being explained.
        num_features : int
            Maximum number of features in the explanation.
        feature_selection : str, default="auto"
            See :meth:`select`.
        model_regressor : scikit-learn regressor, optional
            Fitted with ``sample_weight`` on the selected features instead of
            the default ``Ridge(alpha=1)`` (which is solved in closed form).
            Must expose ``coef_``, ``intercept_``, ``predict`` and ``score``.

        Returns
        -------
        SurrogateFit

        Raises
        ------
        InputError
            ``y`` of the wrong length, or a ``model_regressor`` for a solver that
            overwrote its samples.
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if y.shape[0] != self.n_samples:
            raise InputError(describe("y", f"{self.n_samples} outputs", y))
        if model_regressor is not None and self.Z is None:
            raise InputError(describe("model_regressor", "None for a solver built with "
                                      "overwrite_samples=True", model_regressor,
                                      "Build the LimeSolver without overwrite_samples."))
        moments = self._moments(y)
        used = self._select(y, moments, num_features, feature_selection)
        if model_regressor is None:
            coef, intercept = self._ridge(moments, used, alpha=1.0)
            score = self._r2(moments, used, coef)
            local = float(self.instance[used] @ coef + intercept)
        else:
            x_used = self.Z[:, used]
            if not all(hasattr(model_regressor, m) for m in ("fit", "predict", "score")):
                raise InputTypeError(
                    describe("model_regressor", "a scikit-learn regressor with fit/predict/score",
                             model_regressor)
                )
            model_regressor.fit(x_used, y, sample_weight=self.weights)
            score = float(model_regressor.score(x_used, y, sample_weight=self.weights))
            local = float(np.ravel(model_regressor.predict(self.instance[used][None, :]))[0])
            coef = np.asarray(model_regressor.coef_, dtype=np.float64).reshape(-1)
            intercept = float(np.ravel(model_regressor.intercept_)[0]) \
                if np.ndim(model_regressor.intercept_) else float(model_regressor.intercept_)
        return SurrogateFit(used=used, coef=np.asarray(coef, dtype=np.float64),
                            intercept=float(intercept), score=float(score),
                            local_prediction=local)
