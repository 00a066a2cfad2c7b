"""Faithfulness: deletion and insertion curves (with their area), faithfulness
correlation and infidelity, each beside a random-attribution control.

Every model evaluation of a metric (all steps of all instances, labels and
control draws) goes through the task's model in chunked calls
(:meth:`whylens.models.Model.call_chunked`), with the calling convention's
``batch_size``, ``progress`` and ``callback``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from whylens._validation import check_positive_int, check_random_state
from whylens.errors import InputError, InputTypeError, describe
from whylens.metrics._controls import check_control, control_draws, feature_grids
from whylens.metrics._inputs import Task, check_not_supported_shift, resolve, run_masks
from whylens.metrics._result import MetricResult, RandomControl

__all__ = ["deletion", "faithfulness_correlation", "infidelity", "insertion"]


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(describe(name, "a number in (0, 1)", value))
    if not 0.0 < float(value) < 1.0:
        raise InputError(describe(name, "a number in (0, 1)", value))
    return float(value)


def _check_scale(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputTypeError(describe(name, "a positive number", value))
    if not float(value) > 0.0:
        raise InputError(describe(name, "a positive number", value))
    return float(value)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Position of every feature when sorted by decreasing score (ties: lower index first)."""
    order = np.argsort(-scores, axis=-1, kind="stable")
    ranks = np.empty_like(order, dtype=np.int32)
    np.put_along_axis(ranks, order, np.arange(scores.shape[-1], dtype=np.int32)[None], axis=-1)
    return ranks


def _area(curves: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Trapezoidal area under each row of ``curves`` over ``fractions``."""
    return ((curves[:, 1:] + curves[:, :-1]) * 0.5 * np.diff(fractions)).sum(axis=1)


def _curve(model: Any, explanation: Any, x: Any, *, insert: bool, steps: Any, n_random: Any,
           **kwargs: Any) -> MetricResult:
    progress, callback = kwargs.pop("progress"), kwargs.pop("callback")
    random_state = kwargs["random_state"]
    n_random = check_positive_int("n_random", n_random, minimum=0)
    kind, sigma = check_control(kwargs.pop("control"), kwargs.pop("control_sigma"))
    task = resolve(model, explanation, x, **kwargs)
    grids = feature_grids(task) if kind == "smooth" else None
    rng = check_random_state(random_state)
    n, n_labels, n_features = task.n, task.n_labels, task.n_features
    steps = min(n_features, 50) if steps is None else check_positive_int("steps", steps)
    if steps > n_features:
        raise InputError(describe("steps", f"at most the number of features ({n_features})",
                                  steps, "Each step removes at least one feature."))
    counts = np.rint(np.linspace(0, n_features, steps + 1)).astype(np.int64)
    scores = [task.attributions.reshape(n * n_labels, n_features)]
    scores += control_draws(rng, task, n_random, kind, sigma, grids)
    ranks = _ranks(np.concatenate(scores))  # (T, F), T = (1 + R) * n * L
    n_tasks = ranks.shape[0]
    instance_of = (np.arange(n_tasks) // n_labels) % n
    per_task = steps + 1

    def masks(a: int, b: int) -> tuple[np.ndarray, np.ndarray, None]:
        rows = np.arange(a, b)
        t, s = rows // per_task, rows % per_task
        cut = counts[s][:, None]
        keep = ranks[t] < cut if insert else ranks[t] >= cut
        return instance_of[t], keep, None

    out = run_masks(task, n_tasks * per_task, masks, progress=progress, callback=callback)
    label_of = np.tile(task.labels.reshape(-1), 1 + n_random)
    picked = out.reshape(n_tasks, per_task, -1)[np.arange(n_tasks), :, label_of]
    fractions = counts / n_features
    areas = _area(picked, fractions)  # (T,)
    areas = areas.reshape(1 + n_random, n, n_labels)
    control = RandomControl.from_scores(areas[1:].mean(axis=(1, 2))) if n_random else None
    params = dict(task.params)
    params.update(steps=steps, n_random=n_random, random_state=random_state, control=kind,
                  control_sigma=sigma if kind == "smooth" else None)
    return MetricResult(
        metric="insertion" if insert else "deletion", score=float(areas[0].mean()),
        scores=areas[0], higher_is_better=insert, random=control,
        curves=picked[: n * n_labels].reshape(n, n_labels, per_task), fractions=fractions,
        params=params, n_evals=int(n_tasks * per_task * task.remover.k))


_CURVE_DOC = """
    Parameters
    ----------
    model : callable, scikit-learn estimator, torch.nn.Module or Model
        The explained model (wrapped by :func:`whylens.models.as_model`).
    explanation : Explanation or array-like of shape (n, *feature_shape)
        The attributions scored. An Explanation's labels are scored (every
        one); an array is scored for ``target``.
    x : array-like, tensor, DataFrame or list of str, optional
        The explained inputs; by default those the Explanation keeps
        (``features.data`` or ``features.texts``).
    target : None, int, str or sequence, optional
        With an array of attributions: the output to score (convention:
        None is each row's predicted class).
    baseline : optional
        What a removed feature becomes. Tables: ``"mean"`` (default),
        ``"median"`` (of ``background``), ``"sample"`` (every mask is scored
        against ``n_background`` background rows and the outputs averaged),
        ``"zero"``, a number, or rows ``(k, d)``; integer inputs (token ids,
        one feature per position) default to 0, usually padding: pass the
        mask token's id to replace tokens with it. Images: ``"blur"``
        (default; Gaussian blur of the image, ``blur_sigma`` pixels),
        ``"mean"`` (the image's mean colour), ``"zero"``, a number or an
        image. Text: None removes the token (every occurrence), a string
        replaces it (a mask token such as ``"[MASK]"``).
    background : array-like or DataFrame of shape (m, d), optional
        Tables: the rows baselines are taken from (default: ``x`` itself
        when it has several rows).
    steps : int, optional
        Number of steps from no feature to all features (default
        ``min(n_features, 50)``); step ``s`` touches
        ``round(s * n_features / steps)`` features.
    n_random : int, default=5
        Draws of random attributions for the control (0: none).
    control : {{"iid", "smooth"}}, default="iid"
        The random attributions: ``"iid"``, one standard normal per feature;
        ``"smooth"``, the same normals on the image's feature grid (pixels, a
        spatial map, or segments forming a grid of rectangles) smoothed by a
        Gaussian of ``control_sigma`` cells over the spatial axes, so that
        random orderings remove blobs at the explanation's scale, not
        scattered features (which destroys an image's class faster than
        removing any region). A tiny sigma gives the ``"iid"`` areas.
    control_sigma : float, default=1.0
        Standard deviation of the smooth control's filter, in grid cells
        (pixels, or segments of the grid); unused by ``"iid"``.
    n_background : int, default=20
        Rows drawn from ``background`` for ``baseline="sample"``.
    blur_sigma : float, default=5.0
        Standard deviation (pixels) of the blur baseline.
    batch_size : int, optional
        Model rows per call (None: from the model's memory budget).
    random_state : int or Generator, default=0
        Seeds the random control and the background sample.
    progress : bool, optional
        A tqdm bar over the model rows.
    callback : callable, optional
        ``callback(done, total)`` after each chunk; returning False or raising
        :class:`~whylens.errors.Cancelled` stops the work.

    Returns
    -------
    MetricResult
        ``scores`` (n, n_labels) areas under the curve of the label's output
        against the fraction of features {verb}; ``curves`` (n, n_labels,
        steps + 1), ``fractions`` (steps + 1,); ``random``: the mean area of
        random orderings (mean and spread over the draws); ``params`` record
        ``control`` and ``control_sigma`` (None for ``"iid"``).

    Raises
    ------
    InputError, InputTypeError
        Attributions that do not fit ``x``, a baseline of the wrong shape or
        kind, ``steps`` larger than the number of features, bad counts; an
        unknown ``control``, ``"smooth"`` without an image grid, a
        ``control_sigma`` that is not a positive number.
    ModelError, ModelOutputError
        The model raised or returned unusable output.
    Cancelled
        The callback stopped the work.
"""


def deletion(model: Any, explanation: Any, x: Any = None, *, target: Any = None,
             baseline: Any = None, background: Any = None, steps: int | None = None,
             n_random: int = 5, control: str = "iid", control_sigma: float = 1.0,
             n_background: int = 20, blur_sigma: float = 5.0,
             batch_size: int | None = None, random_state: Any = 0,
             progress: bool | None = None, callback: Any = None) -> MetricResult:
    """Deletion: the model's output as the most important features are removed first.

    A faithful attribution makes the output fall fast: a lower area is better
    (Petsiuk et al., 2018, RISE).
    """
    return _curve(model, explanation, x, insert=False, steps=steps, n_random=n_random,
                  target=target, baseline=baseline, background=background, control=control,
                  control_sigma=control_sigma, n_background=n_background,
                  blur_sigma=blur_sigma, batch_size=batch_size,
                  random_state=random_state, progress=progress, callback=callback)


def insertion(model: Any, explanation: Any, x: Any = None, *, target: Any = None,
              baseline: Any = None, background: Any = None, steps: int | None = None,
              n_random: int = 5, control: str = "iid", control_sigma: float = 1.0,
              n_background: int = 20, blur_sigma: float = 5.0,
              batch_size: int | None = None, random_state: Any = 0,
              progress: bool | None = None, callback: Any = None) -> MetricResult:
    """Insertion: the model's output as the most important features are added first
    to the all-removed input (the baseline).

    A faithful attribution makes the output rise fast: a higher area is better.
    """
    return _curve(model, explanation, x, insert=True, steps=steps, n_random=n_random,
                  target=target, baseline=baseline, background=background, control=control,
                  control_sigma=control_sigma, n_background=n_background,
                  blur_sigma=blur_sigma, batch_size=batch_size,
                  random_state=random_state, progress=progress, callback=callback)


deletion.__doc__ = (deletion.__doc__ or "") + _CURVE_DOC.format(verb="removed")
insertion.__doc__ = (insertion.__doc__ or "") + _CURVE_DOC.format(verb="inserted")


# ------------------------------------------------------------ perturbation metrics
def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching rows (last axis); 0 where either is constant."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    num = (a * b).sum(axis=-1)
    tol = 1e-12 * np.maximum(1.0, np.sqrt((b * b).sum(axis=-1)))
    ok = (den > 0) & (np.sqrt((a * a).sum(axis=-1)) > 1e-300) & (
        np.sqrt((b * b).sum(axis=-1)) > tol)
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def _random_attributions(rng: np.random.Generator, task: Task, n_random: int) -> np.ndarray:
    return rng.standard_normal((n_random, task.n, task.n_labels, task.n_features))


def _perturbed_outputs(task: Task, n_samples: int, keep: np.ndarray | None,
                       shift: np.ndarray | None, progress: Any, callback: Any
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Outputs at every instance (n, n_out) and at its n_samples perturbations
    (n, n_samples, n_out), in one chunked run."""
    n, per = task.n, n_samples + 1

    def masks(a: int, b: int) -> tuple[np.ndarray, Any, Any]:
        rows = np.arange(a, b)
        i, s = rows // per, rows % per
        first = s == 0
        j = np.maximum(s - 1, 0)
        if shift is not None:
            sh = shift[i, j]
            sh[first] = 0.0
            return i, None, sh
        kp = keep[i, j].copy()
        kp[first] = True
        return i, kp, None

    out = run_masks(task, n * per, masks, progress=progress, callback=callback)
    out = out.reshape(n, per, -1)
    return out[:, 0], out[:, 1:]


def _label_outputs(task: Task, at_x: np.ndarray, perturbed: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(f(x) for each label (n, L), f(x - I) (n, L, n_samples))."""
    rows = np.arange(task.n)[:, None]
    fx = at_x[rows, task.labels]
    fp = np.moveaxis(perturbed, 2, 1)[rows, task.labels]  # (n, L, S)
    return fx, fp


def faithfulness_correlation(model: Any, explanation: Any, x: Any = None, *,
                             target: Any = None, baseline: Any = None,
                             background: Any = None, subset_size: int | None = None,
                             n_samples: int = 50, n_random: int = 5, n_background: int = 20,
                             blur_sigma: float = 5.0, batch_size: int | None = None,
                             random_state: Any = 0, progress: bool | None = None,
                             callback: Any = None) -> MetricResult:
    """Faithfulness correlation (Bhatt et al., 2020).

    For ``n_samples`` random subsets S of ``subset_size`` features, the
    Pearson correlation between the attributions' sum over S and the output's
    drop when S is removed (``f(x) - f(x_{S -> baseline})``). Exact
    attributions of a linear model give 1; a constant model (or constant
    attributions) gives 0. Higher is better.

    Parameters
    ----------
    model, explanation, x, target, baseline, background, n_background, blur_sigma
        As :func:`deletion`.
    subset_size : int, optional
        Features removed together (default ``max(1, n_features // 4)``).
    n_samples : int, default=50
        Random subsets per instance (the same subsets score the control).
    n_random : int, default=5
        Draws of random attributions for the control; they reuse the
        subsets' model outputs, so the control costs no evaluation.
    batch_size, random_state, progress, callback
        As :func:`deletion`.

    Returns
    -------
    MetricResult
        ``scores`` of shape (n, n_labels): the correlation per instance and label.

    Raises
    ------
    InputError, InputTypeError
        As :func:`deletion`; ``subset_size`` not below the number of features.
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    n_random = check_positive_int("n_random", n_random, minimum=0)
    task = resolve(model, explanation, x, target=target, baseline=baseline,
                   background=background, n_background=n_background, blur_sigma=blur_sigma,
                   batch_size=batch_size, random_state=random_state)
    n_features = task.n_features
    if n_features < 2:
        raise InputError(describe("explanation", "at least 2 features to draw subsets of",
                                  got_text=f"{n_features} feature"))
    size = max(1, n_features // 4) if subset_size is None else check_positive_int(
        "subset_size", subset_size)
    if size >= n_features:
        raise InputError(describe("subset_size", f"fewer than the number of features "
                                  f"({n_features})", subset_size))
    rng = check_random_state(random_state)
    order = rng.random((task.n, n_samples, n_features)).argsort(axis=2)
    removed = np.zeros((task.n, n_samples, n_features), dtype=bool)
    np.put_along_axis(removed, order[:, :, :size], True, axis=2)
    at_x, perturbed = _perturbed_outputs(task, n_samples, ~removed, None, progress, callback)
    fx, fp = _label_outputs(task, at_x, perturbed)
    drop = fx[:, :, None] - fp  # (n, L, S)
    sums = np.einsum("nlf,nsf->nls", task.attributions, removed.astype(np.float64))
    scores = _pearson_rows(sums, drop)
    control = None
    if n_random:
        rand = _random_attributions(rng, task, n_random)
        rsums = np.einsum("rnlf,nsf->rnls", rand, removed.astype(np.float64))
        control = RandomControl.from_scores(_pearson_rows(rsums, drop[None]).mean(axis=(1, 2)))
    params = dict(task.params)
    params.update(subset_size=size, n_samples=n_samples, n_random=n_random,
                  random_state=random_state)
    return MetricResult("faithfulness_correlation", float(scores.mean()), scores, True,
                        control, params=params,
                        n_evals=int(task.n * (n_samples + 1) * task.remover.k))


def _infidelity_scores(dot: np.ndarray, diff: np.ndarray, normalize: bool) -> np.ndarray:
    """captum's infidelity of rows: mean of (beta * I.a - (f(x) - f(x - I)))^2.

    ``beta = E[I.a diff] / E[(I.a)^2]`` (0 when every ``I.a`` is 0, captum's
    ``safe_div``) with ``normalize``, else 1. captum sums the expanded square
    (``beta^2 a^2 - 2 beta ab + b^2``); the square itself is the same number
    without the cancellation (never below 0).
    """
    if not normalize:
        return ((dot - diff) ** 2).mean(axis=-1)
    a2 = (dot * dot).sum(axis=-1)
    ab = (dot * diff).sum(axis=-1)
    beta = np.divide(ab, a2, out=np.zeros_like(ab), where=a2 != 0)
    return ((beta[..., None] * dot - diff) ** 2).mean(axis=-1)


def infidelity(model: Any, explanation: Any, x: Any = None, *, target: Any = None,
               perturbation: str = "subset", baseline: Any = None, background: Any = None,
               n_samples: int = 50, noise_scale: float = 0.1, subset_fraction: float = 0.5,
               normalize: bool = True, n_random: int = 5, n_background: int = 20,
               blur_sigma: float = 5.0, batch_size: int | None = None, random_state: Any = 0,
               progress: bool | None = None, callback: Any = None) -> MetricResult:
    """Infidelity (Yeh et al., 2019), as ``captum.metrics.infidelity``.

    ``E_I[(beta * I . a - (f(x) - f(x - I)))^2]`` over random perturbations
    ``I``, with ``beta = E[I.a (f(x) - f(x - I))] / E[(I.a)^2]`` when
    ``normalize`` (captum's ``normalize=True``, captum#613: the value no
    longer depends on the attributions' scale; ``beta = 1`` otherwise). Lower
    is better; the exact attributions of a linear model give 0 under
    ``"subset"``, its gradient under ``"gaussian"``.

    Parameters
    ----------
    model, explanation, x, target, baseline, background, n_background, blur_sigma
        As :func:`deletion`.
    perturbation : {"subset", "gaussian"}, default="subset"
        ``"subset"``: each feature is removed (set to the baseline) with
        probability ``subset_fraction``; ``I`` is the 0/1 removal mask and
        ``x - I`` the input with those features removed (captum's
        ``infidelity_perturb_func_decorator(multiply_by_inputs=True)``, for
        attributions that sum to an output difference: SHAP, IG, LIME,
        occlusion). ``"gaussian"``: ``I ~ N(0, noise_scale^2)`` per feature
        and ``x - I`` shifted by it (captum's tutorial; for gradients and
        saliency), numeric inputs only.
    n_samples : int, default=50
        Perturbations per instance (captum's ``n_perturb_samples``).
    noise_scale : float, default=0.1
    subset_fraction : float, default=0.5
    normalize : bool, default=True
    n_random : int, default=5
        Draws of random attributions for the control (no extra evaluation).
    batch_size, random_state, progress, callback
        As :func:`deletion`.

    Returns
    -------
    MetricResult
        ``scores`` of shape (n, n_labels).

    Raises
    ------
    InputError, InputTypeError
        As :func:`deletion`; an unknown perturbation.
    NotSupportedError
        ``"gaussian"`` on text.
    """
    if perturbation not in ("subset", "gaussian"):
        raise InputError(describe("perturbation", "'subset' or 'gaussian'", perturbation))
    n_samples = check_positive_int("n_samples", n_samples)
    n_random = check_positive_int("n_random", n_random, minimum=0)
    task = resolve(model, explanation, x, target=target, baseline=baseline,
                   background=background, n_background=n_background, blur_sigma=blur_sigma,
                   batch_size=batch_size, random_state=random_state)
    rng = check_random_state(random_state)
    shape = (task.n, n_samples, task.n_features)
    if perturbation == "gaussian":
        check_not_supported_shift(task)
        scale = _check_scale("noise_scale", noise_scale)
        perturb = rng.standard_normal(shape) * scale
        at_x, perturbed = _perturbed_outputs(task, n_samples, None, perturb, progress, callback)
        record: dict[str, Any] = {"noise_scale": scale}
    else:
        fraction = _check_fraction("subset_fraction", subset_fraction)
        removed = rng.random(shape) < fraction
        perturb = removed.astype(np.float64)
        at_x, perturbed = _perturbed_outputs(task, n_samples, ~removed, None, progress,
                                             callback)
        record = {"subset_fraction": fraction}
    fx, fp = _label_outputs(task, at_x, perturbed)
    diff = fx[:, :, None] - fp  # (n, L, S)
    dot = np.einsum("nlf,nsf->nls", task.attributions, perturb)
    scores = _infidelity_scores(dot, diff, bool(normalize))
    control = None
    if n_random:
        rand = _random_attributions(rng, task, n_random)
        rdot = np.einsum("rnlf,nsf->rnls", rand, perturb)
        control = RandomControl.from_scores(
            _infidelity_scores(rdot, diff[None], bool(normalize)).mean(axis=(1, 2)))
    params = dict(task.params)
    params.update(perturbation=perturbation, n_samples=n_samples, normalize=bool(normalize),
                  n_random=n_random, random_state=random_state, **record)
    return MetricResult("infidelity", float(scores.mean()), scores, False, control,
                        params=params, n_evals=int(task.n * (n_samples + 1) * task.remover.k),
                        extras={"perturbations": perturb})
