"""whylens.batch with the torch methods over a tensor file or an image folder: the values
equal the direct library call on the same rows; 1 and 2 workers (and Ray) give identical
parts; an interrupted job resumes with every row exactly once; bad files are refused.

The model is a small CNN defined in a factory module written to a temporary folder.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import numpy as np
import pytest

if os.environ.get("CI"):
    import pyarrow  # noqa: F401  (CI installs the scale extra: a missing one fails)
else:
    pytest.importorskip("pyarrow", reason="the scale extra is not installed")
torch = pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")

from whylens.batch import explain_dataset  # noqa: E402
from whylens.batch import open as open_output  # noqa: E402
from whylens.batch._store import MANIFEST  # noqa: E402
from whylens.cli import main  # noqa: E402
from whylens.errors import InputError, InputTypeError, ModelError  # noqa: E402
from whylens.torch import GradCAM, IntegratedGradients, Saliency  # noqa: E402

MODULE = "whylens_test_batch_cnn"
FACTORY = '''
import torch


class Net(torch.nn.Module):
    def __init__(self, channels=3, dims=2):
        super().__init__()
        conv = torch.nn.Conv2d if dims == 2 else torch.nn.Conv1d
        pool = torch.nn.AdaptiveAvgPool2d if dims == 2 else torch.nn.AdaptiveAvgPool1d
        self.features = torch.nn.Sequential(conv(channels, 4, 3, padding=1), torch.nn.ReLU(),
                                            conv(4, 6, 3, padding=1), torch.nn.ReLU())
        self.head = torch.nn.Sequential(pool(1), torch.nn.Flatten(), torch.nn.Linear(6, 3))

    def forward(self, x):
        return self.head(self.features(x))


def cnn():
    torch.manual_seed(0)
    return Net().eval()


def cnn1d():
    torch.manual_seed(1)
    return Net(channels=2, dims=1).eval()
'''


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The factory module, importable (and pickled by value, so that worker processes and
    Ray workers started before its folder joined sys.path still load it)."""
    import cloudpickle

    folder = tmp_path_factory.mktemp("factory")
    (folder / f"{MODULE}.py").write_text(FACTORY)
    sys.path.insert(0, str(folder))
    module = importlib.import_module(MODULE)
    cloudpickle.register_pickle_by_value(module)
    yield module
    cloudpickle.unregister_pickle_by_value(module)
    sys.path.remove(str(folder))
    sys.modules.pop(MODULE, None)


@pytest.fixture(scope="module")
def images():
    """40 images (3, 12, 12) in [0, 1]."""
    return torch.rand(40, 3, 12, 12, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def tensor_file(images, tmp_path_factory):
    path = tmp_path_factory.mktemp("tensors") / "x.pt"
    torch.save(images, path)
    return path


def table_of(output):
    """The parts sorted by row; checks every row is there once."""
    table = open_output(output).to_table().sort_by("row")
    assert table.column("row").to_pylist() == list(range(table.num_rows))
    return table


def maps_of(table, manifest) -> np.ndarray:
    shape = manifest["layout"]["map_shape"]
    flat = np.asarray(table.column("map").combine_chunks().flatten())
    return flat.reshape(table.num_rows, *shape)


def direct(method, model, x, target=None, **options):
    """The library's own call on the rows: (maps (n, *spatial) float32, labels, output)."""
    if method == "torch.gradcam":
        exp = GradCAM(model, options.get("layer"))(x, target=target)
        values = exp.values[:, 0]
    elif method == "torch.integratedgradients":
        exp = IntegratedGradients(model, n_steps=options.get("n_steps", 50))(x, target=target)
        values = exp.values[:, 0].sum(axis=1)
    else:
        exp = Saliency(model)(x, target=target)
        values = exp.values[:, 0].sum(axis=1)
    labels = np.asarray(exp.labels)
    labels = labels[:, 0] if labels.ndim == 2 else np.full(len(x), labels[0])
    return values.astype(np.float32), labels, exp


CASES = {
    "torch.gradcam": {"layer": "features.0"},
    "torch.integratedgradients": {"n_steps": 16},
    "torch.saliency": {},
}


# ---------------------------------------------------------------- values
@pytest.mark.parametrize("method", sorted(CASES))
def test_tensor_file_values_equal_the_direct_call(models, images, tensor_file, tmp_path,
                                                  method):
    model = models.cnn()
    params = CASES[method]
    result = explain_dataset(model, tensor_file, method, params=params, output=tmp_path / "o",
                             chunk_rows=8, progress=False)
    assert result.n_chunks == 5 and result.chunks_run == 5
    manifest = json.loads((tmp_path / "o" / MANIFEST).read_text())
    assert manifest["layout"]["map_shape"] == [12, 12]
    assert manifest["job"]["input"]["shape"] == [40, 3, 12, 12]
    table = table_of(tmp_path / "o")
    expected, labels, _ = direct(method, model, images, **params)
    np.testing.assert_allclose(maps_of(table, manifest), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(table.column("label").to_numpy(), labels)
    with torch.no_grad():
        logits = model(images).numpy()
    np.testing.assert_array_equal(labels, logits.argmax(1))  # each row's predicted class
    for k in range(3):
        np.testing.assert_allclose(table.column(f"output:{k}").to_numpy(), logits[:, k],
                                   rtol=1e-6, atol=1e-7)
    if method == "torch.gradcam":
        assert manifest["layout"]["layer"] == "features.0"
    if method == "torch.integratedgradients":  # completeness survives the channel sum
        gap = logits[np.arange(40), labels] - table.column("base_value").to_numpy()
        np.testing.assert_allclose(maps_of(table, manifest).sum((1, 2)), gap, atol=1e-3)
    # the summary: mean |map| per label explained, from the parts
    mean_abs = table.column("mean_abs").to_numpy()
    np.testing.assert_allclose(mean_abs, np.abs(expected).mean((1, 2)), rtol=1e-5)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["rows"] == 40 and summary["map_shape"] == [12, 12]
    for label in np.unique(labels):
        assert summary["mean_abs"][str(label)]["map"] == pytest.approx(
            mean_abs[labels == label].mean(), rel=1e-12)
        assert summary["rows_per_label"][str(label)] == int((labels == label).sum())


def test_target_default_layer_and_a_sequence_model(models, images, tensor_file, tmp_path):
    model = models.cnn()
    explain_dataset(model, tensor_file, "torch.gradcam", params={"target": 2},
                    output=tmp_path / "t", chunk_rows=16, progress=False)
    manifest = json.loads((tmp_path / "t" / MANIFEST).read_text())
    table = table_of(tmp_path / "t")
    expected, _, exp = direct("torch.gradcam", model, images, target=2)
    assert manifest["layout"]["layer"] == exp.params["layer"] == "features.3"  # the default
    assert manifest["layout"]["labels"] == ["2"]
    assert set(table.column("label").to_pylist()) == {2}
    np.testing.assert_allclose(maps_of(table, manifest), expected, rtol=1e-5, atol=1e-7)
    # (n, C, L) in memory: maps of shape (L,)
    seq = torch.rand(10, 2, 20, generator=torch.Generator().manual_seed(3))
    sequence_model = models.cnn1d()
    explain_dataset(sequence_model, seq, "torch.saliency", output=tmp_path / "s",
                    chunk_rows=4, progress=False)
    manifest = json.loads((tmp_path / "s" / MANIFEST).read_text())
    assert manifest["layout"]["map_shape"] == [20]
    expected = Saliency(sequence_model)(seq).values[:, 0].sum(1)
    np.testing.assert_allclose(maps_of(table_of(tmp_path / "s"), manifest), expected,
                               rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- determinism, resume
@pytest.mark.parametrize("method", ["torch.gradcam", "torch.integratedgradients"])
def test_one_and_two_workers_write_identical_parts(models, tensor_file, tmp_path, method):
    model = models.cnn()
    manifests = []
    for jobs in (1, 2):
        explain_dataset(model, tensor_file, method, params=CASES[method],
                        output=tmp_path / f"o{jobs}", chunk_rows=8, jobs=jobs, progress=False)
        manifests.append(json.loads((tmp_path / f"o{jobs}" / MANIFEST).read_text()))
    assert manifests[0]["chunks"] == manifests[1]["chunks"]  # byte-identical parts
    assert table_of(tmp_path / "o1").equals(table_of(tmp_path / "o2"))


def test_interrupted_job_resumes_exactly_once(models, tensor_file, tmp_path):
    model = models.cnn()
    out = tmp_path / "o"
    params = CASES["torch.gradcam"]
    explain_dataset(model, tensor_file, "torch.gradcam", params=params, output=out,
                    chunk_rows=8, progress=False)
    reference = table_of(out)
    parts = sorted(out.glob("part-*.parquet"))
    parts[2].unlink()  # lost
    damaged = parts[4].read_bytes()
    parts[4].write_bytes(damaged[: len(damaged) // 2])  # truncated
    (out / (parts[1].name + ".tmp-123")).write_bytes(b"half")  # left by a kill
    again = explain_dataset(model, tensor_file, "torch.gradcam", params=params, output=out,
                            chunk_rows=8, progress=False)
    assert again.chunks_redone == [2, 4] and again.chunks_run == 2 and again.chunks_reused == 3
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [p.name for p in parts] + [MANIFEST, "summary.json"])
    assert table_of(out).equals(reference)
    assert explain_dataset(model, tensor_file, "torch.gradcam", params=params, output=out,
                           chunk_rows=8, progress=False).chunks_run == 0
    with pytest.raises(InputError, match="another job"):
        explain_dataset(model, tensor_file, "torch.gradcam", params={"layer": "features.2"},
                        output=out, chunk_rows=8, progress=False)


# ---------------------------------------------------------------- image folders
def _write_images(folder, arrays, suffix=".png"):
    folder.mkdir()
    for i, array in enumerate(arrays):
        Image.fromarray(array).save(folder / f"img{i:03d}{suffix}")


def test_image_folder_is_decoded_in_name_order(models, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, size=(12, 12, 3), dtype=np.uint8) for _ in range(13)]
    _write_images(tmp_path / "imgs", arrays)
    x = torch.from_numpy(np.stack(arrays).transpose(0, 3, 1, 2).astype(np.float32) / 255)
    model = models.cnn()
    from whylens.batch import _images

    decoded = []
    rows = _images.ImageFolderSource._rows

    def counted(self, start, stop):
        decoded.append(stop - start)
        return rows(self, start, stop)

    monkeypatch.setattr(_images.ImageFolderSource, "_rows", counted)
    result = explain_dataset(model, tmp_path / "imgs", "torch.integratedgradients",
                             params={"n_steps": 8}, output=tmp_path / "o", chunk_rows=5,
                             jobs=2, progress=False)
    assert max(decoded) <= 5  # a chunk (or the 2-row probe) at a time, never the folder
    assert result.n_rows == 13 and result.n_chunks == 3
    manifest = json.loads((tmp_path / "o" / MANIFEST).read_text())
    expected, labels, _ = direct("torch.integratedgradients", model, x, n_steps=8)
    table = table_of(tmp_path / "o")
    np.testing.assert_allclose(maps_of(table, manifest), expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(table.column("label").to_numpy(), labels)


def test_image_folder_of_mixed_sizes_needs_size(models, tmp_path):
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 256, size=shape, dtype=np.uint8)
              for shape in ((20, 30), (16, 16), (40, 24), (18, 18))]  # grey
    _write_images(tmp_path / "imgs", arrays)
    model = models.Net(channels=1)
    with pytest.raises(InputError, match="size"):
        explain_dataset(model, tmp_path / "imgs", "torch.saliency", output=tmp_path / "no",
                        progress=False)
    assert not (tmp_path / "no").exists()
    explain_dataset(model, tmp_path / "imgs", "torch.saliency", params={"size": 16},
                    output=tmp_path / "o", chunk_rows=3, progress=False)
    manifest = json.loads((tmp_path / "o" / MANIFEST).read_text())
    assert manifest["job"]["input"]["shape"] == [4, 1, 16, 16]
    # the first image, 30 x 20 (w x h): shorter side to 16 (24 x 16), centre 16 x 16 crop
    first = Image.fromarray(arrays[0]).resize((24, 16), Image.BILINEAR).crop((4, 0, 20, 16))
    x0 = torch.from_numpy(np.asarray(first, dtype=np.float32)[None, None] / 255)
    expected = Saliency(model)(x0).values[0, 0].sum(0)
    got = maps_of(table_of(tmp_path / "o"), manifest)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- refusals
def test_refusals(models, images, tensor_file, tmp_path):
    model = models.cnn()
    arrays = [np.zeros((12, 12, 3), dtype=np.uint8)] * 2
    _write_images(tmp_path / "fake", arrays)
    (tmp_path / "fake" / "img001.png").write_text("not an image at all")
    _write_images(tmp_path / "notes", arrays)
    (tmp_path / "notes" / "README.txt").write_text("labels")
    (tmp_path / "empty").mkdir()
    torch.save({"x": images}, tmp_path / "dict.pt")
    torch.save((images * 255).to(torch.uint8), tmp_path / "bytes.pt")
    torch.save(images[:, 0, 0], tmp_path / "flat.pth")
    torch.save(images[:, :1], tmp_path / "grey.pt")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")
    (tmp_path / "junk.pt").write_bytes(b"no tensor here")
    cases = [
        (dict(data=tmp_path / "fake"), InputError, r"img001\.png, which is not an image"),
        (dict(data=tmp_path / "notes"), InputError, r"README\.txt"),
        (dict(data=tmp_path / "empty"), InputError, "at least one"),
        (dict(data=tmp_path / "dict.pt"), InputError, "holding dict"),
        (dict(data=tmp_path / "bytes.pt"), InputError, "torch.uint8"),
        (dict(data=tmp_path / "flat.pth"), InputError, r"\(40, 12\)"),
        (dict(data=tmp_path / "grey.pt"), ModelError, r"\(2, 1, 12, 12\)"),
        (dict(data=tmp_path / "module.pt"), InputError, "weights_only=True"),
        (dict(data=tmp_path / "junk.pt"), InputError, "weights_only=True"),
        (dict(data=tmp_path / "absent.pt"), InputError, "existing"),
        (dict(data=tmp_path / "x.npy"), InputError, r"\.pt/\.pth"),
        (dict(data=[[1.0]]), InputTypeError, "tensor"),
        (dict(params={"size": 8}), InputError, "image folder"),
        (dict(params={"background": 5}), InputError, "no background"),
        (dict(params={"n_steps": 5}), InputError, "n_steps"),
        (dict(params={"target": -1}), InputError, "target"),
        (dict(params={"target": 7}), InputError, "target"),
        (dict(params={"layer": "nope"}), InputError, "nope"),
        (dict(model=lambda x: x), InputError, "torch.nn.Module"),
        (dict(method="torch.deeplift"), InputError, "not offered"),
    ]
    base = dict(model=model, data=tensor_file, method="torch.gradcam",
                output=tmp_path / "out", progress=False)
    for change, error, match in cases:
        with pytest.raises(error, match=match):
            explain_dataset(**{**base, **change})
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the command line
def test_cli_explains_an_image_folder(models, tmp_path, capsys):
    rng = np.random.default_rng(2)
    _write_images(tmp_path / "imgs", [rng.integers(0, 256, size=(14, 10, 3), dtype=np.uint8)
                                      for _ in range(6)], suffix=".jpg")
    out = tmp_path / "out"
    code = main(["explain", f"{MODULE}:cnn", str(tmp_path / "imgs"), "--method",
                 "torch.gradcam", "--param", "size=8", "--output", str(out), "--chunk-rows",
                 "4", "--no-progress"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "6 rows in 2 parts" in printed.out and "mean |value| for" in printed.out
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["layout"]["map_shape"] == [8, 8] and manifest["complete"]


# ---------------------------------------------------------------- Ray
@pytest.mark.ray
def test_ray_equals_local(models, tensor_file, tmp_path):
    if os.environ.get("CI"):
        import ray
    else:
        ray = pytest.importorskip("ray", reason="Ray is not installed (the scale extra)")
    from whylens.batch._engines import start_ray

    started = start_ray(2, None)
    try:
        model = models.cnn()
        manifests = []
        for engine, jobs in (("local", 1), ("ray", 2)):
            explain_dataset(model, tensor_file, "torch.gradcam", params=CASES["torch.gradcam"],
                            output=tmp_path / engine, chunk_rows=8, engine=engine, jobs=jobs,
                            progress=False)
            manifests.append(json.loads((tmp_path / engine / MANIFEST).read_text()))
        assert manifests[0]["chunks"] == manifests[1]["chunks"]  # byte-identical parts
    finally:
        if started:
            ray.shutdown()
