"""The Displays draw what the results hold, keep their artists, and never touch pyplot."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from whylens.errors import InputError, InputTypeError
from whylens.inspection import (
    ImportanceResult,
    PartialDependenceDisplay,
    PartialDependenceResult,
    PermutationImportanceDisplay,
    impurity_importance,
    partial_dependence,
    permutation_importance,
)

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=4, random_state=0)
    return X, y, LinearRegression().fit(X, y)


@pytest.fixture(scope="module")
def classes():
    X, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    return X, y, LogisticRegression(max_iter=500).fit(X, y)


def test_importance_boxplot_orders_by_mean_and_draws_every_repeat(regression):
    X, y, lr = regression
    disp = PermutationImportanceDisplay.from_estimator(lr, X, y, n_repeats=4, random_state=0)
    mean = disp.result.importances_mean
    np.testing.assert_array_equal(disp.order_, np.argsort(-mean, kind="stable"))
    labels = [t.get_text() for t in disp.ax_.get_yticklabels()]
    # the top of the axis (largest position) is the most important feature
    positions = disp.ax_.get_yticks()
    assert labels[int(np.argmax(positions))] == disp.result.names[disp.order_[0]]
    assert len(disp.boxes_["boxes"]) == 4
    # a box's median line sits at the median of that feature's repeats
    top = disp.boxes_["medians"][0].get_xdata()[0]
    assert top == pytest.approx(np.median(disp.result.importances[disp.order_[0]]))
    assert disp.figure_ is disp.ax_.figure
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules[
        "matplotlib.pyplot"].get_fignums()


def test_importance_bars_show_mean_and_std_and_max_display(regression):
    X, y, lr = regression
    result = permutation_importance(lr, X, y, n_repeats=3, random_state=0)
    disp = PermutationImportanceDisplay.from_result(result, kind="bar", max_display=2)
    widths = [bar.get_width() for bar in disp.bars_]
    np.testing.assert_allclose(widths, np.sort(result.importances_mean)[::-1][:2])
    assert len(disp.bars_) == 2 and disp.errorbars_ is not None
    back = ImportanceResult.from_json(result.to_json())
    again = PermutationImportanceDisplay.from_result(back, kind="bar", max_display=2)
    np.testing.assert_allclose([b.get_width() for b in again.bars_], widths)


def test_importance_display_of_impurity_and_of_a_chosen_scorer(classes):
    X, y, clf = classes
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    disp = PermutationImportanceDisplay.from_result(impurity_importance(forest), kind="bar")
    assert "impurity" in disp.ax_.get_xlabel().lower()
    result = permutation_importance(clf, X, y, scoring=["accuracy", "neg_log_loss"],
                                    n_repeats=2, random_state=0)
    disp = PermutationImportanceDisplay.from_result(result, scorer="neg_log_loss")
    assert "neg_log_loss" in disp.ax_.get_xlabel()


def test_importance_display_draws_on_a_given_axes(regression):
    from matplotlib.figure import Figure

    X, y, lr = regression
    fig = Figure()
    ax = fig.add_subplot()
    disp = PermutationImportanceDisplay.from_estimator(lr, X, y, n_repeats=2, random_state=0,
                                                       ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig


def test_pd_lines_are_the_averages_and_ice_lines_the_rows(regression):
    X, _y, lr = regression
    disp = PartialDependenceDisplay.from_estimator(lr, X, [0, 2], kind="both",
                                                   grid_resolution=10, max_ice_lines=None)
    r = disp.result
    assert disp.axes_.shape == (1, 2)
    for s in range(2):
        line = disp.lines_[(s, 0)]
        np.testing.assert_allclose(line.get_xdata(), r.grid_values[s][0])
        np.testing.assert_allclose(line.get_ydata(), r.average[s][0])
        assert len(disp.ice_lines_[(s, 0)]) == 120
        np.testing.assert_allclose(disp.ice_lines_[(s, 0)][5].get_ydata(), r.individual[s][0][5])
        # the rug: one tick per decile at the deciles of the column
        segments = disp.deciles_vlines_[s].get_segments()
        np.testing.assert_allclose([seg[0][0] for seg in segments], r.deciles[r.features[s][0]])


def test_pd_draws_at_most_max_ice_lines_and_says_so(regression):
    X, _y, lr = regression
    disp = PartialDependenceDisplay.from_estimator(lr, X, 0, kind="individual",
                                                   grid_resolution=5, max_ice_lines=30)
    assert len(disp.ice_lines_[(0, 0)]) == 30
    assert "30 of 120" in disp.axes_[0, 0].get_title()
    assert disp.lines_ == {}


def test_every_class_shares_a_panel_when_averaged_and_gets_its_own_with_ice(classes):
    X, _y, clf = classes
    avg = PartialDependenceDisplay.from_estimator(clf, X, [1], grid_resolution=8)
    assert len(avg.panels_) == 1 and len(avg.lines_) == 3
    labels = [t.get_text() for t in avg.axes_[0, 0].get_legend().get_texts()]
    assert labels == ["0", "1", "2"]
    both = PartialDependenceDisplay.from_estimator(clf, X, [1], kind="both",
                                                   grid_resolution=8, n_cols=2)
    assert both.panels_ == [(0, [0]), (0, [1]), (0, [2])] and both.axes_.shape == (2, 2)
    assert not both.axes_[1, 1].axison
    assert both.axes_[0, 1].get_title().startswith("1")


def test_two_way_contour_and_categorical_bars_and_heat_map():
    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=80), rng.normal(size=80), rng.integers(0, 3, 80)]

    def f(Z):
        return Z[:, 0] * Z[:, 1] + Z[:, 2]

    disp = PartialDependenceDisplay.from_estimator(
        f, X, [(0, 1), 2, (0, 2)], categorical_features=[2], grid_resolution=6)
    r = disp.result
    contour = disp.contours_[(0, 0)]
    assert contour.levels.min() <= r.average[0][0].min()
    assert 0 in disp.deciles_hlines_ and 0 in disp.deciles_vlines_
    heights = [b.get_height() for b in disp.bars_[(1, 0)]]
    np.testing.assert_allclose(heights, r.average[1][0])
    image = disp.contours_[(2, 0)]
    np.testing.assert_allclose(image.get_array(), r.average[2][0].T)


def test_from_result_after_a_json_round_trip_and_on_one_axes(regression):
    from matplotlib.figure import Figure

    X, _y, lr = regression
    result = partial_dependence(lr, X, [0, 1, (0, 1)], kind="average", grid_resolution=5)
    back = PartialDependenceResult.from_json(result.to_json())
    fig = Figure()
    ax = fig.add_subplot()
    disp = PartialDependenceDisplay.from_result(back, ax=ax)
    assert disp.figure_ is fig and disp.axes_.shape == (1, 3)
    assert not ax.axison  # its area was split into the panels
    np.testing.assert_allclose(disp.lines_[(1, 0)].get_ydata(), result.average[1][0])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: PermutationImportanceDisplay("x"), InputTypeError, "^result"),
    (lambda: PartialDependenceDisplay(3), InputTypeError, "^result"),
])
def test_bad_display_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_plot_arguments(regression):
    X, y, lr = regression
    result = permutation_importance(lr, X, y, n_repeats=2, random_state=0)
    with pytest.raises(InputError, match=r"^kind"):
        PermutationImportanceDisplay(result).plot(kind="violin")
    with pytest.raises(InputError, match=r"^scorer"):
        PermutationImportanceDisplay(result).plot(scorer="nope")
    pd_result = partial_dependence(lr, X, [0, 1], grid_resolution=5)
    with pytest.raises(InputError, match=r"^ax: expected 2 matplotlib Axes"):
        PartialDependenceDisplay(pd_result).plot(ax=[object()])
    with pytest.raises(InputError, match=r"^n_cols"):
        PartialDependenceDisplay(pd_result).plot(n_cols=0)
