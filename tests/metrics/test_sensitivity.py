"""sensitivity_max: zero for a linear model's saliency, a hand-computed case, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import Cancelled, InputError, InputTypeError
from whylens.metrics import sensitivity_max


def test_linear_saliency_is_zero():
    torch = pytest.importorskip("torch")
    from whylens.torch import Saliency

    torch.manual_seed(0)
    model = torch.nn.Linear(5, 3)
    x = torch.randn(4, 5)
    res = sensitivity_max(Saliency(model), x, n_samples=6)
    np.testing.assert_array_equal(res.scores, np.zeros((4, 1)))
    assert res.random.mean > 1.0  # random maps move by about sqrt(2) of their norm
    assert res.vs_random > 0


def test_hand_computed_quadratic():
    """f = |x|^2 / 2 has gradient x: the change is the noise d, the score max |d| / |x|."""
    seen = []

    def explain(x):
        seen.append(np.array(x))
        return np.array(x)

    x = np.array([[1.0, 2.0, 2.0], [0.5, 0.0, 0.0]])
    res = sensitivity_max(explain, x, radius=0.1, n_samples=7, batch_size=4, n_random=0)
    perturbed = np.concatenate(seen[1:]).reshape(2, 7, 3)
    noise = perturbed - x[:, None]
    assert np.abs(noise).max() <= 0.1 and len(seen) == 1 + 4  # 14 rows in chunks of 4
    expected = np.sqrt((noise ** 2).sum(-1)).max(axis=1) / np.sqrt((x ** 2).sum(-1))
    np.testing.assert_allclose(res.scores[:, 0], expected, rtol=1e-12)
    inf = sensitivity_max(explain, x, radius=0.1, n_samples=7, norm="inf", n_random=0)
    assert inf.score > 0


def test_target_is_passed_on_for_every_perturbed_row():
    targets = []

    def explain(x, target=None):
        targets.append(target)
        return np.ones((len(x), 2))

    sensitivity_max(explain, np.zeros((2, 2)), target=[1, 0], n_samples=3)
    assert targets == [[1, 0], [1, 1, 1, 0, 0, 0]]


def test_callback_and_cancel():
    calls = []
    sensitivity_max(lambda x: np.array(x), np.ones((2, 2)), n_samples=3, batch_size=2,
                    callback=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 6), (4, 6), (6, 6)]
    with pytest.raises(Cancelled):
        sensitivity_max(lambda x: np.array(x), np.ones((2, 2)), n_samples=3, batch_size=2,
                        callback=lambda d, t: False)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"radius": 0}, InputError, "radius"),
    ({"radius": "big"}, InputTypeError, "radius"),
    ({"norm": "l1"}, InputError, "norm"),
    ({"n_samples": 0}, InputError, "n_samples"),
    ({"x": np.array([1.0, 2.0])}, InputError, "x"),
    ({"x": np.array([[np.nan, 1.0]])}, InputError, "x"),
    ({"explain": None}, InputTypeError, "explain"),
])
def test_bad_input(kwargs, error, match):
    args = {"explain": lambda x: np.array(x), "x": np.ones((2, 2))}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        sensitivity_max(args.pop("explain"), args.pop("x"), **args)
