"""LIME for tables, with lime's ``LimeTabularExplainer`` API."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from whylens._convention import check_batch_size
from whylens._validation import (
    check_finite_row,
    check_names,
    check_positive_int,
    check_random_state,
    random_state_param,
)
from whylens._workspace import scratch
from whylens.errors import InputError, InputTypeError, describe
from whylens.explanation import Explanation, Features
from whylens.lime._common import (
    check_kernel,
    check_num_samples,
    distances_to_first,
    finish_explanation,
    surrogate_solver,
)
from whylens.lime._solver import check_feature_selection
from whylens.models import DEFAULT_MEMORY_BUDGET, as_model
from whylens.models._frames import row_values, table_values
from whylens.representations._runner import evaluate_rows
from whylens.representations.tabular import (
    DISCRETIZERS,
    Discretizer,
    TabularSampler,
    check_categorical_names,
    check_category_codes,
)

__all__ = ["LimeTabularExplainer"]

_MODES = ("classification", "regression")


def _check_training_data(training_data: Any) -> np.ndarray:
    training_data, _ = table_values(training_data, "training_data")
    try:
        X = np.asarray(training_data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputTypeError(
            describe("training_data", "a numeric 2-D array (n_rows, n_features)", training_data,
                     "Encode categorical columns as integers first (e.g. OrdinalEncoder).")
        ) from exc
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise InputError(
            describe("training_data", "a 2-D array with at least 2 rows and 1 column",
                     got_text=f"shape {X.shape}",
                     fix="Pass the training matrix, e.g. X_train (reshape a single column "
                         "with X.reshape(-1, 1)).")
        )
    bad = ~np.isfinite(X)
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0))
        raise InputError(
            describe("training_data", "finite values", got_text=f"NaN or infinity in column(s) "
                     f"{cols[:10].tolist()}", fix="Impute missing values first.")
        )
    return X


class LimeTabularExplainer:
    """Explain predictions on tables with LIME (drop-in for lime's class of this name).

    Parameters
    ----------
    training_data : array-like or pandas DataFrame of shape (n_rows, n_features)
        Numeric training matrix; its statistics drive the sampling. With a
        DataFrame, feature names default to its columns and the model is
        called with DataFrames of the same columns and dtypes.
    mode : {"classification", "regression"}, default="classification"
    training_labels : array-like of shape (n_rows,), optional
        Needed for ``discretizer="entropy"``.
    feature_names : sequence of str, optional
    categorical_features : sequence of int, optional
        Indices of categorical columns (integer-coded).
    categorical_names : mapping of int to sequence of str, optional
        ``categorical_names[col][code]`` is the name of a category.
    kernel_width : float, optional
        Default ``sqrt(n_features) * 0.75``.
    kernel : callable, optional
        ``kernel(distances, kernel_width)``; default lime's exponential kernel.
    class_names : sequence of str, optional
    feature_selection : str, default="auto"
    discretize_continuous : bool, default=True
    discretizer : {"quartile", "decile", "entropy"} or Discretizer, default="quartile"
        A Discretizer is copied and the copy fitted on ``training_data``; the
        object passed is left as it was.
    sample_around_instance : bool, default=False
        Without discretisation, draw continuous columns around the instance
        instead of the training mean.
    random_state : int or numpy.random.Generator, optional
        Seed. The same int gives the same explanation on every call.

    Raises
    ------
    InputError, InputTypeError
        For bad training data, names of the wrong length, unknown options.
    """

    def __init__(
        self,
        training_data: Any,
        mode: str = "classification",
        training_labels: Any = None,
        feature_names: Sequence[str] | None = None,
        categorical_features: Sequence[int] | None = None,
        categorical_names: Mapping[int, Sequence[Any]] | None = None,
        kernel_width: float | None = None,
        kernel: Callable[[np.ndarray, float], np.ndarray] | None = None,
        class_names: Sequence[str] | None = None,
        feature_selection: str = "auto",
        discretize_continuous: bool = True,
        discretizer: str | Discretizer = "quartile",
        sample_around_instance: bool = False,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        X = _check_training_data(training_data)
        _, self.schema = table_values(training_data, "training_data")
        if feature_names is None and self.schema is not None:
            feature_names = self.schema.names
        if mode not in _MODES:
            raise InputError(describe("mode", f"one of {_MODES}", mode))
        d = X.shape[1]
        self.mode = mode
        self.feature_names = check_names("feature_names", feature_names, d, "")
        cats = [] if categorical_features is None else list(categorical_features)
        for c in cats:
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < d:
                raise InputError(describe("categorical_features",
                                          f"column indices in [0, {d})", categorical_features))
        self.categorical_features = sorted({int(c) for c in cats})
        self.categorical_names = check_categorical_names(categorical_names, d)
        self.kernel, width = check_kernel(kernel, kernel_width)
        self.kernel_width = float(np.sqrt(d) * 0.75) if width is None else width
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.feature_selection = check_feature_selection(feature_selection)
        self.sample_around_instance = bool(sample_around_instance)
        check_random_state(random_state)
        self.random_state = random_state
        self.discretizer: Discretizer | None = None
        if discretize_continuous:
            if isinstance(discretizer, str):
                if discretizer not in DISCRETIZERS:
                    raise InputError(describe("discretizer",
                                              f"one of {DISCRETIZERS} or a Discretizer",
                                              discretizer))
                seed = random_state if isinstance(random_state, (int, np.integer)) else None
                discretizer = Discretizer(discretizer, random_state=seed)
            elif not isinstance(discretizer, Discretizer):
                raise InputTypeError(describe("discretizer",
                                              f"one of {DISCRETIZERS} or a Discretizer",
                                              discretizer))
            else:
                # Fitted on this explainer's data: a copy, so that the caller's
                # object (maybe shared with another explainer) never changes.
                discretizer = copy.deepcopy(discretizer)
            continuous = [c for c in range(d) if c not in self.categorical_features]
            labels = None if training_labels is None else np.asarray(training_labels)
            self.discretizer = discretizer.fit(X, continuous, self.feature_names, labels)
        self.sampler = TabularSampler(X, self.categorical_features, self.feature_names,
                                      self.discretizer)
        self.n_features = d

    def explain_instance(
        self,
        data_row: Any,
        predict_fn: Any,
        labels: Sequence[int] = (1,),
        top_labels: int | None = None,
        num_features: int = 10,
        num_samples: int = 5000,
        distance_metric: str = "euclidean",
        model_regressor: Any = None,
        *,
        target: Any = None,
        batch_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        progress: bool | None = None,
        callback: Callable[[int, int], Any] | None = None,
    ) -> Explanation:
        """Explain one row.

        Parameters
        ----------
        data_row : array-like of shape (n_features,), or a pandas Series
        predict_fn : callable, scikit-learn estimator or Model
            Takes (n, n_features) and returns (n, n_classes) probabilities
            (classification) or (n,) values (regression). When the training
            data was a DataFrame, it is called with DataFrames of the same
            columns and dtypes.
        labels : sequence of int, default=(1,)
        top_labels : int, optional
        num_features : int, default=10
        num_samples : int, default=5000
        distance_metric : str, default="euclidean"
        model_regressor : scikit-learn regressor, optional
        target : int or str, optional
            whylens' convention: the output (index or class name) to explain,
            instead of ``labels``/``top_labels``.
        batch_size : int, optional
            Rows per model call; ``None`` sizes the calls from ``memory_budget``.
        memory_budget : int, default=256 MiB
            Bytes one call's rows (and the model's estimated working memory) may take.
        progress : bool, optional
        callback : callable, optional
            ``callback(rows_done, rows_total)`` after every model chunk; raising
            :class:`~whylens.errors.Cancelled` or returning ``False`` cancels.

        Returns
        -------
        Explanation
            ``values`` of shape (1, n_labels, n_features); in regression mode
            the single label is 0 (``as_list(1)`` gives it, as in lime).

        Raises
        ------
        InputError, InputTypeError
            Bad row, labels, sizes.
        ModelError, ModelOutputError
            The model raised or returned unusable output.
        """
        data_row = row_values(data_row, "data_row")
        row = check_finite_row("data_row", data_row, self.n_features)
        check_category_codes(row, self.categorical_features, self.categorical_names)
        num_samples = check_num_samples(num_samples)
        num_features = check_positive_int("num_features", num_features)
        batch_size = check_batch_size(batch_size)
        output = "probability" if self.mode == "classification" else "auto"
        model = as_model(predict_fn, output=output, chunk_size=batch_size,
                         memory_budget=memory_budget)
        to_model = None if self.schema is None else self.schema.to_frame
        seed_param = random_state_param(self.random_state)
        rng = check_random_state(self.random_state)
        shape = (num_samples, self.n_features)
        with scratch(shape[::-1], slot="lime.samples") as buffer:
            # The rows go to the user's model, which may keep them: new memory.
            Z, inverse = self.sampler.sample(row, num_samples, rng, self.sample_around_instance,
                                             out=buffer)
            # Everything that needs no model output first, while the samples are
            # in the caches: distances, weights, the weighted Gram matrix.
            weights = self.kernel(distances_to_first(Z, distance_metric), self.kernel_width)
            solver = surrogate_solver(Z, weights, model_regressor)
            del Z
            Y = evaluate_rows(model, inverse, to_model=to_model, progress=progress,
                              callback=callback)
            del inverse
            descriptions = self.sampler.describe_row(row, self.feature_names,
                                                     self.categorical_names)
            # The solver may hold the samples (in ``buffer``) until the fits are done.
            return finish_explanation(
                solver, Y, method="lime.tabular", mode=self.mode,
                features=Features(kind="tabular", names=list(self.feature_names),
                                  descriptions=[descriptions], data=row[None].copy()),
                labels=labels, top_labels=top_labels, target=target,
                num_features=num_features, feature_selection=self.feature_selection,
                model_regressor=model_regressor, class_names=self.class_names,
                model_output_names=model.output_names, kernel_width=self.kernel_width,
                params={
                    "kernel_width": self.kernel_width,
                    "feature_selection": self.feature_selection,
                    "discretizer": None if self.discretizer is None else self.discretizer.kind,
                    "categorical_features": list(self.categorical_features),
                    "sample_around_instance": self.sample_around_instance,
                    "num_samples": num_samples,
                    "distance_metric": distance_metric,
                    "batch_size": batch_size,
                    "random_state": seed_param,
                    "y_range": [float(Y[:, 0].min()), float(Y[:, 0].max())]
                    if self.mode == "regression" else None,
                })
