"""feature_maps(): the layer's output, ranked channels; bad channels."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whylens.errors import InputError, InputTypeError  # noqa: E402
from whylens.torch import feature_maps  # noqa: E402

from .models import GapNet, TextCNN, seeded  # noqa: E402

X = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def test_values_are_the_layer_output_ranked_by_mean():
    model = seeded(GapNet())
    exp = feature_maps(model, X, "features.2")
    direct = model.features[:3](X).detach().numpy()
    means = direct.mean(axis=(0, 2, 3))
    order = np.argsort(-means, kind="stable")
    assert exp.labels.tolist() == order.tolist()
    np.testing.assert_array_equal(exp.values, direct[:, order])
    np.testing.assert_allclose(exp.base_values, direct.mean(axis=(2, 3))[:, order])
    assert exp.method == "torch.feature_maps"
    assert exp.features.data.shape == (2, 8, 8, 3)  # channels-last image


def test_chosen_channels_keep_their_order():
    model = seeded(GapNet())
    exp = feature_maps(model, X, "features.0", channels=[4, 1])
    direct = model.features[0](X).detach().numpy()
    np.testing.assert_array_equal(exp.values, direct[:, [4, 1]])
    assert exp.labels.tolist() == [4, 1]


def test_one_dimensional_layer():
    model = seeded(TextCNN())
    exp = feature_maps(model, torch.tensor([[1, 2, 3, 4, 5]]), "conv", channels=[0])
    assert exp.values.shape == (1, 1, 5)
    assert exp.features.kind == "sequence"


@pytest.mark.parametrize(
    ("channels", "error", "match"),
    [([6], InputError, r"channel indices in \[0, 6\)"), ([], InputTypeError, "non-empty"),
     (["a"], InputTypeError, "int channel"), (2.5, InputTypeError, "channel")],
)
def test_bad_channels(channels, error, match):
    with pytest.raises(error, match=match):
        feature_maps(seeded(GapNet()), X, "features.0", channels=channels)


def test_rows_in_chunks_are_bit_identical_and_reported():
    model = seeded(GapNet())
    x = torch.randn(5, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    whole = feature_maps(model, x, "features.2")
    seen = []
    chunked = feature_maps(model, x, "features.2", batch_size=2,
                           callback=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]
    np.testing.assert_array_equal(chunked.values, whole.values)
    np.testing.assert_array_equal(chunked.base_values, whole.base_values)
    assert chunked.labels.tolist() == whole.labels.tolist()


@pytest.mark.parametrize("stop", ["false", "raise"])
def test_callback_cancels_and_leaves_no_hook(stop):
    from whylens.errors import Cancelled

    model = seeded(GapNet())
    model.train()

    def callback(done, total):
        if stop == "raise":
            raise Cancelled("stop")
        return False

    with pytest.raises(Cancelled):
        feature_maps(model, X, "features.2", batch_size=1, callback=callback)
    assert model.training and all(m.training for m in model.modules())
    assert not any(m._forward_hooks for m in model.modules())


@pytest.mark.parametrize(("kwargs", "error", "match"),
                         [({"batch_size": 0}, InputError, "batch_size"),
                          ({"callback": "no"}, InputTypeError, "callback")])
def test_bad_convention_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        feature_maps(seeded(GapNet()), X, "features.0", **kwargs)


def test_a_shared_block_shows_its_last_call_as_cams_and_layers_do():
    from whylens.torch import layers

    from .models import SharedBlock

    model = SharedBlock().eval()
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    exp = feature_maps(model, x, "block", channels=[0, 1, 2])
    with torch.no_grad():
        second = model.block(torch.relu(model.block(x)))
    np.testing.assert_allclose(exp.values, second.double().numpy(), rtol=1e-6, atol=1e-7)
    shape = next(i.output_shape for i in layers(model, x[:1]) if i.name == "block")
    assert exp.values.shape[1:] == shape[1:]
