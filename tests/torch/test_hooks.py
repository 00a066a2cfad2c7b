"""The hook manager and side effects of every method: hooks, flags, parameters."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from whylens.errors import InputError, ModelError  # noqa: E402
from whylens.torch import (  # noqa: E402
    CAM_METHODS,
    GradCAM,
    HiResCAM,
    cam,
    capture,
    feature_maps,
    filter_patterns,
    layers,
)

from .models import GapNet, Raises, SharedBlock, seeded  # noqa: E402

X = torch.randn(2, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


def _run_cam(name):
    def run(model, layer, target=None):
        return cam(name, model, layer, batch_size=4)(X, target=target)
    return run


def _run_feature_maps(model, layer, target=None):
    from whylens.torch import feature_maps

    if target is not None:  # feature maps take channels, not targets: a bad channel
        return feature_maps(model, X, layer, channels=[99])
    return feature_maps(model, X, layer)


def _run_filter_patterns(model, layer, target=None):
    from whylens.torch import filter_patterns

    channels = [99] if target is not None else [0, 1]
    return filter_patterns(model, layer, channels, steps=3, size=8, random_state=0)


METHODS = {f"cam:{name}": _run_cam(name) for name in sorted(CAM_METHODS)}
METHODS["feature_maps"] = _run_feature_maps
METHODS["filter_patterns"] = _run_filter_patterns


def hooks_of(model):
    found = []
    for name, m in model.named_modules():
        for kind in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                     "_backward_pre_hooks", "_forward_hooks_with_kwargs",
                     "_state_dict_hooks"):
            if getattr(m, kind, None):
                found.append((name, kind))
    return found


def snapshot(model):
    return {
        "training": [(n, m.training) for n, m in model.named_modules()],
        "requires_grad": [(n, p.requires_grad) for n, p in model.named_parameters()],
        "params": {n: p.detach().clone() for n, p in model.named_parameters()},
        "grads": [(n, p.grad) for n, p in model.named_parameters()],
    }


def assert_untouched(model, before):
    after = snapshot(model)
    assert hooks_of(model) == []
    assert after["training"] == before["training"]
    assert after["requires_grad"] == before["requires_grad"]
    assert after["grads"] == [(n, None) for n, _ in before["grads"]]
    for name, value in before["params"].items():
        assert torch.equal(after["params"][name], value), name


def odd_model():
    """Training mode with one frozen, eval-mode submodule: both must survive."""
    model = seeded(GapNet())
    model.train()
    model.features[0].eval()
    model.features[0].weight.requires_grad_(False)
    return model


@pytest.mark.parametrize("method", sorted(METHODS))
def test_normal_call_leaves_model_as_it_was(method):
    model = odd_model()
    before = snapshot(model)
    METHODS[method](model, "features.2")
    assert_untouched(model, before)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_bad_target_leaves_model_as_it_was(method):
    model = odd_model()
    before = snapshot(model)
    with pytest.raises(InputError):
        METHODS[method](model, "features.2", target=17)
    assert_untouched(model, before)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_model_that_raises_leaves_model_as_it_was(method):
    model = Raises(odd_model())
    model.train()
    before = snapshot(model)
    with pytest.raises(ModelError):
        METHODS[method](model, "inner.features.2")
    assert_untouched(model, before)


def test_capture_removes_hooks_when_the_block_raises():
    model = odd_model()
    before = snapshot(model)
    with pytest.raises(ZeroDivisionError), capture(model, ["features.0", "features.2"]):
        assert len(hooks_of(model)) == 2
        assert not model.training
        _ = 1 / 0
    assert_untouched(model, before)


def test_inplace_relu_activation_is_captured_before_the_relu():
    model = seeded(GapNet())  # features.2 is followed by ReLU(inplace=True)
    with capture(model, "features.2") as cap:
        model(X)
    pre = model.features[2](model.features[1](model.features[0](X)))
    assert (pre < 0).any()  # the relu would change it
    torch.testing.assert_close(cap.last(), pre.detach())


def test_inplace_relu_gradients_are_those_of_the_layer_output():
    model = seeded(GapNet())
    exp = HiResCAM(model, "features.2")(X, target=1)
    a = model.features[:3](X).detach().requires_grad_(True)
    y = model.head(model.pool(torch.relu(a)).flatten(1))[:, 1].sum()
    (g,) = torch.autograd.grad(y, a)
    expected = torch.relu((g * a).sum(1)).detach()
    np.testing.assert_allclose(exp.layer_values[:, 0], expected.numpy(), atol=1e-10)


def test_reused_module_records_every_call_and_cam_uses_the_last():
    model = seeded(SharedBlock())
    with capture(model, "block") as cap:
        model(X)
    assert len(cap.activations["block"]) == 2
    exp = GradCAM(model, "block")(X, target=0)
    second = model.block(torch.relu(model.block(X))).detach()
    closed = torch.relu(torch.einsum("k,nkhw->nhw", model.head.weight[0].detach(), second)) / 64
    np.testing.assert_allclose(exp.layer_values[:, 0], closed.numpy(), atol=1e-10)


def test_parameters_without_grad_still_give_gradients():
    model = seeded(GapNet())
    for p in model.parameters():
        p.requires_grad_(False)
    exp = GradCAM(model, "features.2")(X, target=0)
    assert np.abs(exp.layer_values).sum() > 0
    assert all(not p.requires_grad for p in model.parameters())


def test_gradients_need_a_gradient_capture():
    model = seeded(GapNet())
    with capture(model, "features.2") as cap:
        out = model(X)
    with pytest.raises(Exception, match="gradients=True"):
        cap.gradients(out.sum())


def test_layer_not_on_the_forward_path_is_reported():
    model = seeded(GapNet())
    model.unused = torch.nn.Conv2d(3, 3, 1).double()
    with pytest.raises(InputError, match="forward pass goes through"):
        GradCAM(model, "unused")(X)


def test_a_sequential_submodule_is_one_layer():
    model = seeded(GapNet())
    with capture(model, model.features) as cap:
        model(X)
    assert cap.names == ["features"]
    torch.testing.assert_close(cap.last(), model.features(X).detach())


class ThreadLog(GapNet):
    """GapNet that records which thread ran each forward."""

    def forward(self, x):
        import threading

        self.log.append(threading.get_ident())
        return super().forward(x)


def _sleepy(done, total):
    import time

    time.sleep(0.002)  # between chunks: another thread would slip in here without the lock


def _cam_call(name):
    return lambda m: cam(name, m, "features.2", batch_size=1)(X, target=1, callback=_sleepy)


CALLS = {f"cam:{name}": _cam_call(name) for name in sorted(CAM_METHODS)}
CALLS["feature_maps"] = lambda m: feature_maps(m, X, "features.2", batch_size=1,
                                               callback=_sleepy)
CALLS["filter_patterns"] = lambda m: filter_patterns(
    m, "features.2", [0, 1, 2], steps=3, size=8, random_state=0, batch_size=1,
    callback=_sleepy)
CALLS["layers"] = lambda m: layers(m, X)


@pytest.mark.parametrize("method", sorted(CALLS))
def test_calls_on_one_model_from_threads_do_not_interleave(method):
    """Each call holds the model's lock from start to end: the forwards of one call
    are never interleaved with another thread's, and the flags end as they were."""
    import threading

    model = seeded(ThreadLog())
    model.train()
    model.features[0].eval()
    model.features[0].weight.requires_grad_(False)
    model.log = []
    before = snapshot(model)
    start = threading.Barrier(4)
    results = [None] * 4

    def run(i):
        start.wait()
        results[i] = CALLS[method](model)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]  # 4 distinct ids
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert_untouched(model, before)
    blocks = [t for i, t in enumerate(model.log) if i == 0 or model.log[i - 1] != t]
    assert len(blocks) == 4 == len(set(blocks)), blocks  # one contiguous block per call
    if method != "layers":
        for other in results[1:]:
            np.testing.assert_array_equal(other.values, results[0].values)
