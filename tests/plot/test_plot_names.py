"""One name per concept across whylens.plot: ``max_display`` and the Explanation's output names."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from whylens import Explanation, Features, plot
from whylens.errors import InputError, InputTypeError

#: Plots that show a chosen number of features (tokens, superpixels, channels).
COUNTING = {"bar", "beeswarm", "feature_map_grid", "force", "force_html", "global_bar",
            "heatmap", "image_mask", "waterfall"}
#: The older spellings kept as keyword-only aliases of max_display.
ALIASES = {"bar": "max_features", "image_mask": "num_features",
           "feature_map_grid": "max_channels"}
#: Other names of the two concepts, which no plot may take.
OTHER_NAMES = {"max_features", "num_features", "max_channels", "n_features", "top_k",
               "class_names", "output_names", "label_names"}

PLOTS = sorted(name for name in plot.__all__ if name != "cjk_font_family")
#: The peers' array functions (captum's, pytorch-grad-cam's), which take arrays by design.
ARRAY_PLOTS = {"show_cam_on_image", "visualize_image_attr"}


def _local(output_names=None):
    """One instance, label 0; as_list order by |w|: b (-2), c (1), a (0.5), d (0.1)."""
    return Explanation(values=np.array([[[0.5, -2.0, 1.0, 0.1]]]), labels=[0],
                       method="lime.tabular", output_names=output_names,
                       features=Features(kind="tabular", names=["a", "b", "c", "d"]))


def _lime_image():
    """Four 2x2 superpixels; weights 0.3, -0.5, 0.2, 0.1 for label 1."""
    segments = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 2, axis=0), 2, axis=1)
    image = np.linspace(0.1, 0.9, 48).reshape(4, 4, 3)
    return Explanation(values=np.array([[[0.3, -0.5, 0.2, 0.1]]]), labels=[1],
                       method="lime.image", output_names=["dog", "cat"],
                       features=Features(kind="image", names=[f"s{i}" for i in range(4)],
                                         data=image[None], segments=segments[None]))


def _channels():
    return Explanation(values=np.arange(5 * 9, dtype=float).reshape(1, 5, 3, 3),
                       labels=[4, 0, 2, 1, 3], method="torch.feature_maps",
                       features=Features(kind="image", names=[]))


@pytest.mark.parametrize("name", PLOTS)
def test_every_plot_uses_max_display_and_no_other_name(name):
    params = inspect.signature(getattr(plot, name)).parameters
    assert ("max_display" in params) == (name in COUNTING)
    others = OTHER_NAMES & set(params)
    assert others == ({ALIASES[name]} if name in ALIASES else set())
    for alias in others:  # the alias is keyword-only, after every positional argument
        assert params[alias].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[alias].default is None
        doc = getattr(plot, name).__doc__
        assert f"{alias} : int, optional\n        Alias of ``max_display``" in doc


@pytest.mark.parametrize("name", sorted(set(PLOTS) - ARRAY_PLOTS))
def test_every_plot_refuses_what_is_no_explanation(name):
    args = ("values", 0) if name == "scatter" else ("values",)
    with pytest.raises(InputTypeError, match="exp: expected a whylens Explanation"):
        getattr(plot, name)(*args)


@pytest.mark.parametrize("name", sorted(ARRAY_PLOTS))
def test_the_peers_array_plots_refuse_what_is_no_array(name):
    with pytest.raises((InputError, InputTypeError), match="expected"):
        getattr(plot, name)("values", "values")


@pytest.mark.parametrize("kwargs", [{"max_display": 2}, {"max_features": 2},
                                    {"max_display": 2, "max_features": 2}])
def test_bar_shows_max_display_features_under_either_name(kwargs):
    fig = plot.bar(_local(), label=0, **kwargs)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b"]  # largest on top
    np.testing.assert_array_equal([p.get_width() for p in ax.patches], [1.0, -2.0])


@pytest.mark.parametrize(("call", "match"), [
    (lambda: plot.bar(_local(), label=0, max_display=2, max_features=3),
     r"max_features: expected either max_display or its alias max_features"),
    (lambda: plot.bar(_local(), label=0, max_features=0), "max_features"),
    (lambda: plot.image_mask(_lime_image(), 1, max_display=1, num_features=2),
     "num_features: expected either max_display"),
    (lambda: plot.feature_map_grid(_channels(), max_display=2, max_channels=3),
     "max_channels: expected either max_display"),
    (lambda: plot.feature_map_grid(_channels(), max_channels=0), "max_channels"),
])
def test_conflicting_or_bad_counts_raise_naming_the_argument(call, match):
    with pytest.raises(InputError, match=match):
        call()


def test_image_mask_alias_is_lime_num_features():
    exp = _lime_image()
    one = np.asarray(plot.image_mask(exp, 1, max_display=1).axes[0].images[0].get_array())
    alias = np.asarray(plot.image_mask(exp, 1, num_features=1).axes[0].images[0].get_array())
    two = np.asarray(plot.image_mask(exp, 1, max_display=2).axes[0].images[0].get_array())
    np.testing.assert_array_equal(one, alias)
    assert not np.array_equal(one, two)
    _, mask = exp.get_image_and_mask(1, num_features=1)  # the strongest positive: segment 0
    np.testing.assert_array_equal(mask, exp.features.segments[0] == 0)


def test_feature_map_grid_alias_is_max_channels():
    titles = {}
    for kwargs in ({"max_display": 2}, {"max_channels": 2}):
        fig = plot.feature_map_grid(_channels(), **kwargs)
        titles[next(iter(kwargs))] = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles["max_display"] == titles["max_channels"] == ["ch 4", "ch 0"]


def test_output_names_come_from_the_explanation():
    assert plot.bar(_local(["neg", "pos"]), label=0).axes[0].get_title() == \
        "Local explanation for class neg"
    assert plot.bar(_local(), label=0).axes[0].get_title() == "Local explanation for class 0"
    exp = _lime_image()
    assert plot.image_mask(exp, 1).axes[0].get_title() == "LIME: class cat"
    assert plot.image_overlay(exp, 1).axes[0].get_title() == "lime.image: class cat"
    assert [exp.output_name(k) for k in (0, 1, 2)] == ["dog", "cat", "2"]
    assert exp.class_names == exp.output_names  # lime's name, the same list


def test_image_overlay_takes_a_map_as_an_array_or_tensor():
    rng = np.random.default_rng(0)
    heat, image = rng.uniform(0, 1, (8, 8)), rng.uniform(0, 1, (8, 8, 3))
    fig = plot.image_overlay(heat, image=image)
    drawn = fig.axes[0].images
    np.testing.assert_array_equal(drawn[1].get_array(), heat)
    torch = pytest.importorskip("torch")
    fig = plot.image_overlay(torch.tensor(heat)[None], image=image)
    np.testing.assert_array_equal(fig.axes[0].images[1].get_array(), heat)
    with pytest.raises(InputError, match="exp"):
        plot.image_overlay(np.zeros((2, 3, 4, 5)))
