"""LIME for images, with lime's ``LimeImageExplainer`` API."""

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
from whylens.models._torch import TorchPredictFn
from whylens.representations._runner import evaluate
from whylens.representations.image import (
    ImageRepresentation,
    SegmentationAlgorithm,
    to_channels_last,
)
from whylens.representations.samplers import sample_image_masks

__all__ = ["LimeImageExplainer", "SegmentationAlgorithm", "sample_image_masks"]


class LimeImageExplainer:
    """Explain image classifiers with LIME (drop-in for ``lime.lime_image.LimeImageExplainer``).

    Parameters
    ----------
    kernel_width : float, default=0.25
        Width of the exponential kernel on (cosine) distances of the masks.
    kernel : callable, optional
        ``kernel(distances, kernel_width) -> weights``.
    verbose : bool, default=False
        Accepted for lime compatibility; whylens never prints.
    feature_selection : {"auto", "forward_selection", "lasso_path", "highest_weights", "none"}
    random_state : int or numpy.random.Generator, optional
        Seeds the masks and the default segmentation: the same int gives a
        bit-identical explanation on every call.
    """

    def __init__(
        self,
        kernel_width: float = 0.25,
        kernel: Callable[[np.ndarray, float], np.ndarray] | None = None,
        verbose: bool = False,
        feature_selection: str = "auto",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.kernel, width = check_kernel(kernel, kernel_width)
        self.kernel_width = float(width)  # type: ignore[arg-type]
        self.verbose = bool(verbose)
        self.feature_selection = check_feature_selection(feature_selection)
        check_random_state(random_state)
        self.random_state = random_state

    def explain_instance(
        self,
        image: Any,
        classifier_fn: Any,
        labels: Sequence[int] = (1,),
        hide_color: Any = None,
        top_labels: int | None = 5,
        num_features: int = 100000,
        num_samples: int = 1000,
        batch_size: int | None = None,
        segmentation_fn: Callable[[np.ndarray], np.ndarray] | None = None,
        distance_metric: str = "cosine",
        model_regressor: Any = None,
        random_seed: int | None = None,
        *,
        class_names: Sequence[str] | None = None,
        target: Any = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        progress: bool | None = None,
        callback: Callable[[int, int], Any] | None = None,
    ) -> Explanation:
        """Explain one image.

        Parameters
        ----------
        image : ndarray (H, W, C) or (H, W), or torch.Tensor (C, H, W) or (H, W)
            The image, in the layout ``classifier_fn`` takes (batches of it).
        classifier_fn : callable, torch.nn.Module or Model
            A callable takes a batch ``(n, H, W, C)`` (numpy image) or
            ``(n, C, H, W)`` (tensor image) and returns (n, n_classes)
            probabilities. A torch module always gets channels-first tensors
            ``(n, C, H, W)`` built on its device in its dtype, a numpy image
            included (no numpy round trip per chunk); its logits go through
            softmax.
        labels : sequence of int, default=(1,)
            Outputs to explain when ``top_labels`` is None.
        hide_color : None, number, colour, "mean" or "blur", default=None
            Fill of hidden superpixels; None is each superpixel's mean colour.
        top_labels : int or None, default=5
            Explain the most probable classes (lime's default).
        num_features : int, default=100000
            Maximum number of superpixels in the explanation.
        num_samples : int, default=1000
            Perturbed images, the original included.
        batch_size : int, optional
            Images per model call (lime: 10). ``None``: at most as many as a
            256 MiB budget allows; when that splits the job, the first chunks
            time a few sizes (4, 8, 16, ... up to the budget's, two chunks
            each) on real samples and the rest run in the fastest per image
            (on a CPU, small batches often beat large ones; a model whose
            call cost dominates, as on a GPU, gets the budget's size after
            three chunks). Results do not depend on it for a model
            that scores each image independently; pass e.g. ``batch_size=10``
            to fix the chunk size (and the float rounding of models whose
            output depends on the batch).
        segmentation_fn : callable, optional
            ``f(image (H, W, C) numpy) -> (H, W) int``; default lime's
            ``quickshift(kernel_size=4, max_dist=200, ratio=0.2)`` seeded from
            ``random_seed`` or ``random_state``.
        distance_metric : str, default="cosine"
        model_regressor : scikit-learn regressor, optional
        random_seed : int, optional
            Seed of the default segmentation (lime's argument).
        class_names : sequence of str, optional
        target : int or str, optional
            whylens' convention: the output (index or class name) to explain,
            instead of ``labels``/``top_labels``.
        memory_budget : int, default=256 MiB
            Bytes one call's images (and the model's estimated working memory) may take.
        progress : bool, optional
            Progress bar over model chunks (default: when a terminal).
        callback : callable, optional
            ``callback(rows_done, rows_total)`` after every chunk; raising
            :class:`~whylens.errors.Cancelled` or returning ``False`` cancels.

        Returns
        -------
        Explanation
            ``values`` of shape (1, n_labels, n_segments); ``segments``,
            ``image``, ``top_labels``, ``local_exp`` and
            ``get_image_and_mask`` as in lime.

        Raises
        ------
        InputError, InputTypeError
            An image with the wrong number of dimensions, dtype, NaN; bad
            labels, sizes or hide_color.
        ModelError, ModelOutputError
            The classifier raised or returned unusable output.
        """
        array, channels_first = to_channels_last(image)
        num_samples = check_num_samples(num_samples)
        num_features = check_positive_int("num_features", num_features)
        batch_size = check_batch_size(batch_size)
        seed_param = random_state_param(self.random_state)
        rng = check_random_state(self.random_state)
        model = as_model(classifier_fn, output="probability", chunk_size=batch_size,
                         memory_budget=memory_budget)
        if segmentation_fn is None:
            seed = int(rng.integers(0, 1000)) if random_seed is None else int(random_seed)
            segmentation_fn = SegmentationAlgorithm("quickshift", kernel_size=4, max_dist=200,
                                                    ratio=0.2, rng=seed)
            segmentation = repr(segmentation_fn)
        elif not callable(segmentation_fn):
            raise InputTypeError(describe("segmentation_fn", "a callable image -> segments",
                                          segmentation_fn))
        else:
            segmentation = repr(segmentation_fn)
        segments = segmentation_fn(array)
        fn = model.fn
        if isinstance(fn, TorchPredictFn):  # build the images where the module runs
            rep = ImageRepresentation(image, segments, hide_color=hide_color,
                                      device=fn.device, dtype=fn.dtype)
        else:
            rep = ImageRepresentation(image, segments, hide_color=hide_color)
        Z = sample_image_masks(rep.n_features, num_samples, rng)
        Y = evaluate(model, rep, Z, progress=progress, callback=callback, unit="images")
        weights = self.kernel(distances_to_first(Z, distance_metric), self.kernel_width)
        return finish_explanation(
            surrogate_solver(Z, weights, model_regressor), Y, method="lime.image",
            mode="classification",
            features=Features(kind="image",
                              names=rep.names,
                              data=array[None].copy(), segments=rep.segments[None]),
            labels=labels, top_labels=top_labels, target=target, num_features=num_features,
            feature_selection=self.feature_selection, model_regressor=model_regressor,
            class_names=class_names, model_output_names=model.output_names,
            kernel_width=self.kernel_width,
            params={
                "kernel_width": self.kernel_width,
                "feature_selection": self.feature_selection,
                "hide_color": hide_color if hide_color is None or isinstance(hide_color, str)
                else np.asarray(hide_color, dtype=np.float64).tolist(),
                "num_samples": num_samples,
                "batch_size": batch_size,
                "segmentation_fn": segmentation,
                "channels_first": channels_first,
                "distance_metric": distance_metric,
                "random_state": seed_param,
                "random_seed": random_seed,
            })
