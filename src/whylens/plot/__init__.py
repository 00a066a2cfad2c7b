"""matplotlib figures of explanations; nothing here calls ``plt.show()``.

>>> from whylens.plot import bar, image_overlay, image_mask, feature_map_grid
"""

from whylens.plot._bar import bar
from whylens.plot._fonts import cjk_font_family
from whylens.plot._image import feature_map_grid, image_mask, image_overlay
from whylens.plot._shap import (
    beeswarm,
    force,
    force_html,
    global_bar,
    heatmap,
    scatter,
    text,
    waterfall,
)

__all__ = [
    "bar",
    "beeswarm",
    "cjk_font_family",
    "feature_map_grid",
    "force",
    "force_html",
    "global_bar",
    "heatmap",
    "image_mask",
    "image_overlay",
    "scatter",
    "text",
    "waterfall",
]
