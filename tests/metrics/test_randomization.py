"""randomization_check on a small CNN: the user's model untouched, similarity falls."""

from __future__ import annotations

import numpy as np
import pytest

from whylens.errors import Cancelled, InputError, InputTypeError

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from whylens.metrics import randomization_check  # noqa: E402
from whylens.torch import GradCAM, Saliency  # noqa: E402


class SmallCNN(nn.Module):
    """conv -> BN -> ReLU -> conv -> ReLU -> GAP -> Linear; ``unused`` is never called."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1)
        self.fc = nn.Linear(6, 3)
        self.unused = nn.Linear(4, 4)

    def forward(self, x):
        h = torch.relu(self.bn(self.conv1(x)))
        h = torch.relu(self.conv2(h))
        return self.fc(h.mean(dim=(2, 3)))


@pytest.fixture
def net():
    torch.manual_seed(0)
    model = SmallCNN()
    with torch.no_grad():  # non-trivial running statistics
        model.bn.running_mean.uniform_(-0.1, 0.1)
        model.bn.running_var.uniform_(0.5, 1.5)
    return model


@pytest.fixture
def x():
    g = torch.Generator().manual_seed(1)
    return torch.rand(2, 3, 12, 12, generator=g)


def snapshot(model):
    return {
        "state": {k: v.detach().clone().numpy().tobytes() for k, v in model.state_dict().items()},
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "hooks": [(len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks))
                  for m in model.modules()],
        "grads": [p.grad is None for p in model.parameters()],
    }


def test_users_model_is_bit_identical_afterwards(net, x):
    net.train()  # the check must not switch it to eval
    net.conv1.weight.requires_grad_(False)
    handle = net.fc.register_forward_hook(lambda *a: None)
    before = snapshot(net)
    rng_before = torch.random.get_rng_state()
    for mode in ("cascading", "independent"):
        randomization_check(Saliency, net, x, mode=mode)
    assert snapshot(net) == before
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # global RNG untouched
    handle.remove()


def test_cascading_similarity_falls(net, x):
    res = randomization_check(Saliency, net, x, mode="cascading")
    # from the output down, in the order the forward calls them; "unused" is never called
    assert res.layers == ["fc", "conv2", "bn", "conv1"]
    assert res.spearman.shape == (4,) and res.ssim.shape == (4,)
    assert res.maps.shape == (5, 2, 1, 3, 12, 12)
    assert res.spearman[-1] < res.spearman[0] and res.spearman[-1] < 0.5
    assert res.ssim[-1] < res.ssim[0]
    assert abs(res.random["spearman"].mean) < 0.2
    d = res.to_dict()
    assert d["layers"] == res.layers and len(d["spearman"]) == 4


def test_forward_order_not_definition_order(x):
    class Reversed(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(3, 2)  # defined first, called last
            self.body = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, z):
            return self.head(torch.relu(self.body(z)).mean(dim=(2, 3)))

    torch.manual_seed(0)
    model = Reversed().train()
    res = randomization_check(Saliency, model, x, n_random=0)
    assert res.layers == ["head", "body"]
    assert model.training and all(not m._forward_hooks for m in model.modules())


def test_a_layer_the_output_ignores_shows_no_change(net, x):
    res = randomization_check(Saliency, net, x, mode="independent",
                              layers=["unused", "conv2"])
    np.testing.assert_array_equal(res.maps[1], res.maps[0])
    assert res.spearman[0] == 1.0 and res.ssim[0] == 1.0
    assert res.spearman[1] < 1.0


def test_independent_draws_the_same_weights_as_cascading_for_the_first_layer(net, x):
    a = randomization_check(Saliency, net, x, mode="independent", layers=["fc", "conv1"])
    b = randomization_check(Saliency, net, x, mode="cascading", layers=["fc", "conv1"])
    np.testing.assert_array_equal(a.maps[:2], b.maps[:2])
    assert not np.array_equal(a.maps[2], b.maps[2])  # conv1 alone vs fc and conv1


def test_predicted_class_of_the_original_model_is_kept(net, x):
    res = randomization_check(Saliency, net, x, layers=["fc"])
    predicted = net.eval()(x).argmax(1).tolist()
    assert res.params["target"] == predicted


def test_layer_method_by_name(net, x):
    res = randomization_check(lambda m: GradCAM(m, "conv2"), net, x, layers=["fc", "conv2"])
    assert res.maps.shape == (3, 2, 1, 12, 12) and res.ssim.shape == (2,)


def test_smooth_variant_averages_noisy_maps(net, x):
    seen = []

    def method(model):
        saliency = Saliency(model)

        def explain(inputs, target=None):
            seen.append(inputs.clone())
            return saliency(inputs, target=target)
        return explain

    res = randomization_check(method, net, x, layers=["fc"], smooth=4, noise_level=0.05)
    assert len(seen) == 8  # 4 noisy copies for the original map and for the step
    assert all(torch.equal(a, b) for a, b in zip(seen[:4], seen[4:], strict=True))
    manual = np.mean([Saliency(net)(s, target=res.params["target"]).values for s in seen[:4]],
                     axis=0)
    np.testing.assert_allclose(res.maps[0], manual, rtol=1e-12)


def test_callback_and_cancel(net, x):
    calls = []
    randomization_check(Saliency, net, x, layers=["fc", "conv2"],
                        callback=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    before = snapshot(net)
    with pytest.raises(Cancelled):
        randomization_check(Saliency, net, x, callback=lambda d, t: d < 2)
    assert snapshot(net) == before


@pytest.mark.parametrize("kwargs, error, match", [
    ({"mode": "random"}, InputError, "mode"),
    ({"layers": ["nope"]}, InputError, "layers"),
    ({"layers": ["fc", "fc"]}, InputError, "layers"),
    ({"smooth": -1}, InputError, "smooth"),
    ({"noise_level": 0}, InputError, "noise_level"),
    ({"x": np.zeros((1, 3, 12, 12))}, InputTypeError, "x"),
    ({"model": lambda z: z}, InputTypeError, "model"),
    ({"method": "saliency"}, InputTypeError, "method"),
])
def test_bad_input(net, x, kwargs, error, match):
    args = {"method": Saliency, "model": net, "x": x}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        randomization_check(args.pop("method"), args.pop("model"), args.pop("x"), **args)
