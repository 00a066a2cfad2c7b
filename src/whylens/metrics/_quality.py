"""The trust figures of one explanation, as the plain JSON an Explanation carries."""

from __future__ import annotations

from typing import Any

from whylens.errors import InputError, describe
from whylens.metrics._faithfulness import (
    deletion,
    faithfulness_correlation,
    infidelity,
    insertion,
)

__all__ = ["QUALITY_METRICS", "quality"]

#: The metrics :func:`quality` can compute from a model and an explanation.
QUALITY_METRICS = {
    "deletion": deletion,
    "insertion": insertion,
    "faithfulness_correlation": faithfulness_correlation,
    "infidelity": infidelity,
}


def quality(model: Any, explanation: Any, x: Any = None, *,
            metrics: Any = ("deletion", "insertion"), extra: Any = (), **kwargs: Any
            ) -> dict[str, dict[str, Any]]:
    """Compute trust figures of an explanation as plain JSON numbers.

    The result is what ``Explanation.quality`` holds (``exp.quality =
    quality(model, exp)``), which JSON keeps and the HTML view shows as a
    table.

    Parameters
    ----------
    model, explanation, x
        As :func:`whylens.metrics.deletion`.
    metrics : sequence of str, default=("deletion", "insertion")
        Names from :data:`QUALITY_METRICS`.
    extra : sequence of results, optional
        Figures computed elsewhere (a :class:`StabilityResult`, a
        :class:`RandomizationResult`, a :class:`MetricResult`), added under
        their metric's name.
    **kwargs
        Passed to every metric (``target``, ``baseline``, ``background``,
        ``n_random``, ``batch_size``, ``random_state``, ``progress``,
        ``callback``).

    Returns
    -------
    dict of str to dict
        ``{metric: result.to_dict()}``: score, direction, the random
        control's mean, spread and draws, the score's margin over it.

    Raises
    ------
    InputError
        An unknown metric name; the metrics' own errors.
    """
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        if name not in QUALITY_METRICS:
            raise InputError(describe("metrics", f"names from {sorted(QUALITY_METRICS)}",
                                      name))
        out[name] = QUALITY_METRICS[name](model, explanation, x, **kwargs).to_dict()
    for result in extra:
        if not hasattr(result, "to_dict"):
            raise InputError(describe("extra", "results of whylens.metrics", result))
        summary = result.to_dict()
        out[str(summary.get("metric", type(result).__name__))] = summary
    return out
