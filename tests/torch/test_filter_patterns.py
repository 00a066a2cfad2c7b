"""filter_patterns(): known direction on a linear layer, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whylens.errors import InputError  # noqa: E402
from whylens.torch import filter_patterns  # noqa: E402

from .models import GapNet, seeded  # noqa: E402


def linear_layer_model():
    """A 1×1 conv without bias: channel k's mean activation is w_k · mean colour."""
    conv = torch.nn.Conv2d(3, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight[:, :, 0, 0] = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]])
    return torch.nn.Sequential(conv, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).double()


def test_linear_channel_pattern_points_along_its_weights():
    model = linear_layer_model()
    exp = filter_patterns(model, "0", [0, 1], steps=40, size=6, random_state=0)
    assert exp.values.shape == (1, 2, 6, 6, 3)
    w = model[0].weight[:, :, 0, 0].detach().numpy()
    for k in range(2):
        colour = exp.values[0, k].reshape(-1, 3).mean(axis=0)
        cosine = colour @ w[k] / (np.linalg.norm(colour) * np.linalg.norm(w[k]))
        assert cosine > 0.99
    # the activation reached grows with more steps
    short = filter_patterns(model, "0", [0, 1], steps=5, size=6, random_state=0)
    assert (exp.output > short.output).all()


def test_a_flat_output_is_maximised_too_class_visualisation():
    model = linear_layer_model()  # "2" is the Flatten: (n, 2), one value per output
    exp = filter_patterns(model, "2", [0, 1], steps=40, size=6, random_state=0)
    flat = filter_patterns(model, "0", [0, 1], steps=40, size=6, random_state=0)
    # Flatten(pool(conv)) is the conv's mean activation: the same objective, the same patterns.
    np.testing.assert_allclose(exp.values, flat.values, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(exp.output, flat.output, rtol=1e-10)


def test_same_seed_is_bit_identical_and_another_seed_differs():
    model = seeded(GapNet())
    a = filter_patterns(model, "features.2", [0, 3], steps=6, size=8, random_state=7)
    b = filter_patterns(model, "features.2", [0, 3], steps=6, size=8, random_state=7)
    c = filter_patterns(model, "features.2", [0, 3], steps=6, size=8, random_state=8)
    np.testing.assert_array_equal(a.values, b.values)
    assert a == b
    assert not np.array_equal(a.values, c.values)


def test_batched_channels_equal_one_at_a_time():
    model = seeded(GapNet())
    both = filter_patterns(model, "features.2", [1, 2], steps=4, size=8, jitter=0,
                           random_state=3)
    # without jitter rows are independent, and row 0 starts from the same draws
    alone = filter_patterns(model, "features.2", [1], steps=4, size=8, jitter=0,
                            random_state=3)
    np.testing.assert_allclose(both.values[0, 0], alone.values[0, 0], rtol=1e-10)
    assert not np.allclose(both.values[0, 0], both.values[0, 1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"channels": [6]}, r"channel indices in \[0, 6\)"), ({"steps": 0}, "steps"),
     ({"size": -1}, "size"), ({"lr": -0.1}, "lr"), ({"layer": "nope"}, "layer"),
     ({"input_shape": (3,)}, "input_shape"), ({"batch_size": 0}, "batch_size")],
)
def test_bad_arguments(kwargs, match):
    args = {"layer": "features.2", "channels": [0], "steps": 2, "size": 8} | kwargs
    with pytest.raises(InputError, match=match):
        filter_patterns(seeded(GapNet()), **args)


def test_channel_groups_are_bit_identical_to_one_batch_and_reported():
    model = seeded(GapNet())
    args = {"layer": "features.2", "channels": [0, 3, 5], "steps": 4, "size": 8,
            "random_state": 5}
    whole = filter_patterns(model, **args)
    seen = []
    grouped = filter_patterns(model, **args, batch_size=2,
                              callback=lambda done, total: seen.append((done, total)))
    np.testing.assert_array_equal(grouped.values, whole.values)
    np.testing.assert_array_equal(grouped.output, whole.output)
    # steps x channels: 4 steps of the first 2 channels, then 4 of the last one
    assert seen == [(2, 12), (4, 12), (6, 12), (8, 12), (9, 12), (10, 12), (11, 12), (12, 12)]


def test_callback_cancels_between_steps_and_leaves_the_model_as_it_was():
    from whylens.errors import Cancelled

    model = seeded(GapNet())
    model.train()
    seen = []
    with pytest.raises(Cancelled):
        filter_patterns(model, "features.2", [0], steps=10, size=8, random_state=0,
                        callback=lambda done, total: seen.append(done) or done < 3)
    assert seen == [1, 2, 3]
    assert model.training and all(m.training for m in model.modules())
    assert not any(m._forward_hooks for m in model.modules())
    assert all(p.requires_grad and p.grad is None for p in model.parameters())
