"""ALEDisplay: computes then plots, keeps its artists, draws what the result holds."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import InputError, InputTypeError
from whylens.inspection import ALEDisplay, ALEResult, accumulated_local_effects


def model(A):
    A = np.asarray(A, dtype=float)
    return A[:, 0] ** 2 + A[:, 0] * A[:, 1] + np.array([0.0, 1.0, -1.0])[A[:, 2].astype(int)]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return np.column_stack([rng.uniform(size=600), rng.uniform(size=600),
                            rng.integers(0, 3, size=600)])


def test_from_estimator_draws_every_effect_and_keeps_the_artists(data):
    disp = ALEDisplay.from_estimator(model, data, [0, (0, 1), 2], categorical_features=[2],
                                     bins=6, n_bootstrap=10, random_state=0, n_cols=2)
    res = disp.result
    assert disp.axes_.shape == (2, 2) and not disp.axes_[1, 1].axison
    line = disp.lines_[0][0]
    np.testing.assert_array_equal(line.get_xdata(), res[0].grid[0])
    np.testing.assert_array_equal(line.get_ydata(), res[0].values[0])
    assert len(disp.bands_[0]) == 1 and disp.contours_[0] is None
    np.testing.assert_allclose(disp.deciles_vlines_[0].get_segments()[0][0][0],
                               res[0].deciles[0][0])
    assert disp.contours_[1] is not None and disp.lines_[1] == []
    labels = [t.get_text() for t in disp.axes_[1, 0].get_xticklabels()]
    assert labels == [str(int(v)) for v in res[2].grid[0]]
    assert disp.figure_ is disp.axes_[0, 0].figure


def test_from_result_after_json_draws_the_same_lines(data):
    res = accumulated_local_effects(model, data, [1], bins=5)
    back = ALEResult.from_json(res.to_json())
    a = ALEDisplay.from_result(res)
    b = ALEDisplay.from_result(back)
    np.testing.assert_array_equal(a.lines_[0][0].get_ydata(), b.lines_[0][0].get_ydata())
    assert a.bands_[0] == []


def test_axes_given_and_pyplot_untouched(data):
    from matplotlib.figure import Figure

    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    fig = Figure()
    ax = fig.add_subplot()
    disp = ALEDisplay.from_estimator(model, data, 0, bins=4, ax=ax)
    assert disp.axes_[0, 0] is ax and disp.figure_ is fig
    fig2 = Figure()
    axes = fig2.subplots(1, 2)
    disp = ALEDisplay.from_estimator(model, data, [0, 1], bins=4, ax=axes)
    assert list(disp.axes_.ravel()) == list(axes)
    split = ALEDisplay.from_estimator(model, data, [0, 1], bins=4, ax=Figure().add_subplot())
    assert split.axes_.shape == (1, 2)
    assert plt.get_fignums() == before


def test_several_targets_one_line_each_and_target_selection(data):
    def two(A):
        return np.column_stack([model(A), -model(A)])

    res = accumulated_local_effects(two, data, 0, bins=4)
    disp = ALEDisplay(res).plot()
    assert len(disp.lines_[0]) == 2
    one = ALEDisplay(res).plot(target=1)
    np.testing.assert_array_equal(one.lines_[0][0].get_ydata(), res[0].values[1])
    with pytest.raises(InputError, match="target"):
        ALEDisplay(res).plot(target=5)


def test_bad_arguments(data):
    res = accumulated_local_effects(model, data, [0, 1], bins=4)
    with pytest.raises(InputTypeError, match="result"):
        ALEDisplay({"effects": []})
    with pytest.raises(InputError, match="ax"):
        from matplotlib.figure import Figure

        ALEDisplay(res).plot(ax=Figure().subplots(1, 3))
    with pytest.raises(InputTypeError, match="ax"):
        ALEDisplay(res).plot(ax="left")
    with pytest.raises(InputError, match="n_cols"):
        ALEDisplay(res).plot(n_cols=0)
