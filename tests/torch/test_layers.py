"""layers(), default_layer(): shapes, kinds, spatial flags, the default CAM layer."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from whylens.errors import InputError  # noqa: E402
from whylens.torch import default_layer, layers  # noqa: E402

from .models import GapNet, SharedBlock, TextCNN, seeded  # noqa: E402


def test_layers_of_a_small_cnn():
    model = seeded(GapNet())
    infos = {i.name: i for i in layers(model, torch.zeros(1, 3, 8, 8, dtype=torch.float64))}
    assert list(infos) == ["features", "features.0", "features.1", "features.2", "features.3",
                           "pool", "head"]
    assert infos["features.0"].kind == "Conv2d"
    assert infos["features.0"].output_shape == (1, 6, 8, 8)
    assert infos["features.2"].output_shape == (1, 6, 4, 4)
    assert infos["features.2"].spatial_shape == (4, 4)
    assert infos["pool"].output_shape == (1, 6, 1, 1) and not infos["pool"].spatial
    assert infos["head"].output_shape == (1, 4) and not infos["head"].spatial
    assert infos["features.0"].n_params == 3 * 6 * 9 + 6
    assert infos["head"].order > infos["pool"].order > infos["features.3"].order
    # the forward ran in eval mode; every flag is restored (a trained-mode model stays so)
    assert model.training and all(m.training for m in model.modules())


def test_layers_restores_mixed_flags_and_removes_its_hooks():
    model = seeded(GapNet())
    model.eval()
    model.features[1].train()
    model.head.weight.requires_grad_(False)
    seen = []
    model.features[1].register_forward_hook(lambda m, i, o: seen.append(m.training))
    layers(model, torch.zeros(1, 3, 8, 8, dtype=torch.float64))
    assert seen == [False]  # eval mode during the forward
    assert [m.training for m in model.modules()] == [
        name == "features.1" for name, _ in model.named_modules()]
    assert [p.requires_grad for p in model.parameters()] == [
        name != "head.weight" for name, _ in model.named_parameters()]
    assert [len(m._forward_hooks) for m in model.modules()] == [
        int(name == "features.1") for name, _ in model.named_modules()]  # only the user's


class Misnamed(torch.nn.Module):
    """Names that lie: the conv is called 'classifier', the pool 'conv_last'."""

    def __init__(self):
        super().__init__()
        self.classifier = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.conv_last = torch.nn.AdaptiveAvgPool2d(1)
        self.features = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.features(self.conv_last(self.classifier(x)).flatten(1))


@pytest.mark.parametrize(
    ("model", "x", "expected"),
    [
        (GapNet(), torch.zeros(1, 3, 8, 8), "features.3"),
        (Misnamed(), torch.zeros(1, 3, 8, 8), "classifier"),
        (TextCNN(), torch.tensor([[1, 2, 3, 4]]), "conv"),
        (SharedBlock(), torch.zeros(1, 3, 8, 8), "block"),
    ],
)
def test_default_layer_is_the_last_spatial_one_by_shape(model, x, expected):
    assert default_layer(model, x) == expected


def test_no_spatial_layer_is_reported():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with pytest.raises(InputError, match="no spatial layer"):
        default_layer(model, torch.zeros(1, 4))
    assert [i.spatial for i in layers(model, torch.zeros(1, 4))] == [False, False, False]


def test_reused_module_is_listed_once_with_its_last_completion():
    infos = {i.name: i for i in layers(SharedBlock(), torch.zeros(1, 3, 8, 8))}
    assert infos["block"].order > 0
    assert infos["pool"].order == infos["block"].order + 1
