"""LIME for text, with lime's ``LimeTextExplainer`` API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from whylens._convention import check_batch_size
from whylens._validation import (
    check_positive_int,
    check_random_state,
    random_state_param,
)
from whylens.errors import InputTypeError, describe
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
from whylens.representations._runner import evaluate_rows
from whylens.representations.samplers import sample_text_masks
from whylens.representations.text import TextRepresentation
from whylens.text._select import get_tokenizer
from whylens.text._tokenize import char_tokenize

__all__ = ["LimeTextExplainer"]


class LimeTextExplainer:
    """Explain text classifiers with LIME (drop-in for ``lime.lime_text.LimeTextExplainer``).

    Parameters
    ----------
    kernel_width : float, default=25
        Width of the exponential kernel on distances (cosine distance × 100).
    kernel : callable, optional
        ``kernel(distances, kernel_width) -> weights``; default
        ``sqrt(exp(-d**2 / width**2))``.
    class_names : sequence of str, optional
        Names of the classifier's outputs; default ``"0", "1", ...``.
    feature_selection : {"auto", "forward_selection", "lasso_path", "highest_weights", "none"}
    split_expression : str or callable, optional
        How to find words. ``None`` (default): a Unicode word regex that
        handles Hangul and every other script. A string is a *separator* regex
        (lime's ``r'\\W+'``). A callable ``f(text)`` returns tokens: strings
        (found in order in the text), :class:`whylens.text.Token` objects, or
        ``(text, start, end)`` triples.
    bow : bool, default=True
        Bag of words: removing a word removes all its occurrences. ``False``:
        each occurrence is its own feature, replaced by ``mask_string``.
    mask_string : str, optional
        Replacement of removed words; default: deleted (bow) or ``"UNKWORDZ"``
        (positional), as in lime; with ``char_level=True`` a removed character
        is deleted (bow) or replaced by ``chr(0)`` (positional), as lime's
        ``IndexedCharacters``.
    char_level : bool, default=False
        Characters instead of words: every character, whitespace included, is
        a token at its own offset.
    random_state : int or numpy.random.Generator, optional
        Seed. The same int gives the same explanation on every call.
    """

    def __init__(
        self,
        kernel_width: float = 25,
        kernel: Callable[[np.ndarray, float], np.ndarray] | None = None,
        class_names: Sequence[str] | None = None,
        feature_selection: str = "auto",
        split_expression: str | Callable[[str], Sequence[Any]] | None = None,
        bow: bool = True,
        mask_string: str | None = None,
        random_state: int | np.random.Generator | None = None,
        char_level: bool = False,
    ) -> None:
        self.kernel, width = check_kernel(kernel, kernel_width)
        self.kernel_width = float(width)  # type: ignore[arg-type]
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.feature_selection = check_feature_selection(feature_selection)
        self.char_level = bool(char_level)
        self.split_expression = split_expression
        self.tokenize = (char_tokenize if self.char_level
                         else get_tokenizer(split_expression, "split_expression"))
        self.bow = bool(bow)
        if mask_string is not None and not isinstance(mask_string, str):
            raise InputTypeError(describe("mask_string", "a str or None", mask_string))
        self.mask_string = mask_string
        check_random_state(random_state)  # validate now, draw per call
        self.random_state = random_state

    def explain_instance(
        self,
        text_instance: str,
        classifier_fn: Any,
        labels: Sequence[int] = (1,),
        top_labels: int | None = None,
        num_features: int = 10,
        num_samples: int = 5000,
        distance_metric: str = "cosine",
        model_regressor: Any = None,
        *,
        target: Any = None,
        batch_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        progress: bool | None = None,
        callback: Callable[[int, int], Any] | None = None,
    ) -> Explanation:
        """Explain one document.

        Parameters
        ----------
        text_instance : str
            The document.
        classifier_fn : callable, scikit-learn pipeline or Model
            Takes a list of n strings and returns (n, n_classes) probabilities.
        labels : sequence of int, default=(1,)
            Outputs to explain (ignored when ``top_labels`` is given).
        top_labels : int, optional
            Explain the ``top_labels`` most probable classes.
        num_features : int, default=10
            Maximum number of words in the explanation.
        num_samples : int, default=5000
            Perturbed documents, the original included.
        distance_metric : str, default="cosine"
        model_regressor : scikit-learn regressor, optional
            Surrogate; default ``Ridge(alpha=1)`` solved in closed form.
        target : int or str, optional
            whylens' convention: the output (index or class name) to explain,
            instead of ``labels``/``top_labels``.
        batch_size : int, optional
            Documents per model call; ``None`` sizes the calls from ``memory_budget``.
        memory_budget : int, default=256 MiB
            Bytes one call's inputs (and the model's estimated working memory) may take.
        progress : bool, optional
            Progress bar over model chunks (default: when a terminal).
        callback : callable, optional
            ``callback(rows_done, rows_total)`` after every model chunk; raising
            :class:`~whylens.errors.Cancelled` or returning ``False`` cancels.

        Returns
        -------
        Explanation
            ``values`` of shape (1, n_labels, n_words); ``features.names`` are
            the words and ``features.spans`` their character offsets.

        Raises
        ------
        InputTypeError
            ``text_instance`` is not a str.
        InputError
            An empty document, bad ``labels``/``num_samples``/``num_features``.
        ModelError, ModelOutputError
            The classifier raised or returned unusable output.
        """
        if not isinstance(text_instance, str):
            raise InputTypeError(
                describe("text_instance", "a str (one document)", text_instance,
                         "To explain several documents, call explain_instance once per document.")
            )
        num_samples = check_num_samples(num_samples)
        num_features = check_positive_int("num_features", num_features)
        batch_size = check_batch_size(batch_size)
        model = as_model(classifier_fn, output="probability", chunk_size=batch_size,
                         memory_budget=memory_budget)
        seed_param = random_state_param(self.random_state)  # before any draw
        rng = check_random_state(self.random_state)
        mask_string = self.mask_string
        if mask_string is None and self.char_level and not self.bow:
            mask_string = "\x00"  # lime's IndexedCharacters: the text keeps its length
        rep = TextRepresentation(text_instance, self.tokenize(text_instance), bow=self.bow,
                                 mask_string=mask_string)
        Z = sample_text_masks(rep.n_features, num_samples, rng)
        docs = rep.apply(Z)
        # Distances, weights and the weighted Gram matrix need no model output:
        # computed first, while the masks are in the caches.
        weights = self.kernel(distances_to_first(Z, distance_metric) * 100, self.kernel_width)
        solver = surrogate_solver(Z, weights, model_regressor)
        del Z
        Y = evaluate_rows(model, docs, progress=progress, callback=callback)
        return finish_explanation(
            solver, Y, method="lime.text", mode="classification",
            features=Features(kind="text", names=rep.names, texts=[text_instance],
                              spans=[rep.spans]),
            labels=labels, top_labels=top_labels, target=target, num_features=num_features,
            feature_selection=self.feature_selection, model_regressor=model_regressor,
            class_names=self.class_names, model_output_names=model.output_names,
            kernel_width=self.kernel_width,
            params={
                "kernel_width": self.kernel_width,
                "feature_selection": self.feature_selection,
                "bow": self.bow,
                "char_level": self.char_level,
                "mask_string": rep.mask_string,
                "split_expression": self.split_expression
                if isinstance(self.split_expression, str) or self.split_expression is None
                else repr(self.split_expression),
                "num_samples": num_samples,
                "distance_metric": distance_metric,
                "batch_size": batch_size,
                "random_state": seed_param,
            })
