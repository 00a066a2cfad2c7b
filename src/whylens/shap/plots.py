"""shap's ``shap.plots`` namespace over :mod:`whylens.plot`, for code that calls
``shap.plots.waterfall(sv[0])`` after ``import whylens.shap as shap``.

Each function takes a whylens Explanation or a ``shap.Explanation`` (and
``force`` shap's arrays), accepts ``show=`` and returns what it drew instead of
calling ``plt.show()``: a matplotlib Figure, or for :func:`force` (as shap's,
HTML unless ``matplotlib=True``) a :class:`whylens.shap.ForcePlot`.

>>> import whylens.shap as shap
>>> shap.plots.bar  # doctest: +ELLIPSIS
<function bar at ...>
"""

from whylens.plot import bar, beeswarm, heatmap, scatter, text, waterfall
from whylens.shap._legacy import force_plot as force

__all__ = ["bar", "beeswarm", "force", "heatmap", "scatter", "text", "waterfall"]
