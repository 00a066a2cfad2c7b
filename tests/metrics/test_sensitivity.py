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


def test_equals_captum_on_the_same_perturbations():
    torch = pytest.importorskip("torch")
    metrics = pytest.importorskip("captum.metrics")
    seen = []

    def explain(x):
        x = np.asarray(x, dtype=np.float64)
        seen.append(x)
        return np.tanh(x) * x ** 2

    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4))
    ours = sensitivity_max(explain, x, radius=0.2, n_samples=5, n_random=0)
    perturbed = torch.as_tensor(np.concatenate(seen[1:]))

    def same_perturbations(inputs, radius):
        return perturbed

    def captum_explain(z):
        z = z[0] if isinstance(z, tuple) else z  # captum passes its inputs as a tuple
        return (torch.tanh(z) * z ** 2,)  # and iterates over what comes back

    theirs = metrics.sensitivity_max(captum_explain, torch.as_tensor(x),
                                     perturb_func=same_perturbations, perturb_radius=0.2,
                                     n_perturb_samples=5)
    np.testing.assert_allclose(ours.scores[:, 0], theirs.numpy(), rtol=1e-6)
