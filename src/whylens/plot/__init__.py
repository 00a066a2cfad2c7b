"""matplotlib figures of explanations; nothing here calls ``plt.show()``.

One name per concept in every plot (shap's): ``max_display`` is how many
features (tokens, superpixels, channels) a plot shows, and the names of the
model outputs are the Explanation's ``output_names``. ``bar(max_features=)``,
``image_mask(num_features=)`` and ``feature_map_grid(max_channels=)`` stay
accepted as aliases of ``max_display``.

The SHAP plots (bar, beeswarm, scatter, heatmap, waterfall, force, text) take a
whylens Explanation or a ``shap.Explanation`` and accept shap's ``show=``;
``whylens.shap.plots`` holds them under shap's names, for code that runs
``import whylens.shap as shap`` and then ``shap.plots.waterfall(sv[0])``.

>>> from whylens.plot import bar, image_overlay, image_mask, feature_map_grid
"""

from whylens.plot._bar import bar
from whylens.plot._captum import visualize_image_attr
from whylens.plot._fonts import cjk_font_family
from whylens.plot._gradcam import show_cam_on_image
from whylens.plot._image import feature_map_grid, image_mask, image_overlay
from whylens.plot._shap import beeswarm, global_bar, heatmap, scatter
from whylens.plot._shap_instance import force, force_html, text, waterfall

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
    "show_cam_on_image",
    "text",
    "visualize_image_attr",
    "waterfall",
]
