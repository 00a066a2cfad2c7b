"""whylens.batch on the local engine: same values for any number of workers, chunk
order and input format; resume after SIGKILL with every row exactly once; damaged
parts redone; closed forms; the refusal table; the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

if os.environ.get("CI"):
    import pyarrow  # noqa: F401  (CI installs the scale extra: a missing one fails)
else:
    pytest.importorskip("pyarrow", reason="the scale extra is not installed")

from tests.batch import _models
from whylens.batch import METHODS, chunk_seed, explain_dataset
from whylens.batch import open as open_output
from whylens.batch._data import as_source
from whylens.batch._store import MANIFEST
from whylens.cli import main
from whylens.errors import InputError, InputTypeError

REPO = Path(__file__).resolve().parents[2]
KERNEL = {"nsamples": 40, "background": 20}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The 5,000-row table as CSV and Parquet (row groups of 700 rows)."""
    folder = tmp_path_factory.mktemp("data")
    frame = _models.table(5000)
    frame.to_csv(folder / "t.csv", index=False)
    frame.to_parquet(folder / "t.parquet", row_group_size=700)
    return frame, folder / "t.csv", folder / "t.parquet"


@pytest.fixture(scope="module")
def model():
    return _models.logistic()


def values_of(output) -> tuple[np.ndarray, list[str]]:
    """Every column of the output, rows sorted by row id; checks each row is there once."""
    table = open_output(output).to_table().to_pandas().sort_values("row")
    assert table["row"].tolist() == list(range(len(table)))
    return table.to_numpy(), list(table.columns)


@pytest.fixture(scope="module")
def kernel_reference(data, model, tmp_path_factory):
    """Kernel SHAP over the 5,000 rows in this process (jobs=1), chunks of 500."""
    out = tmp_path_factory.mktemp("ref") / "out"
    result = explain_dataset(model, data[1], "shap.kernel", params=KERNEL, output=out,
                             chunk_rows=500, progress=False)
    return result, values_of(out)


# ---------------------------------------------------------------- determinism
@pytest.mark.parametrize("jobs", [2, 3])
def test_workers_give_identical_values(data, model, kernel_reference, tmp_path, jobs):
    result = explain_dataset(model, data[2], "shap.kernel", params=KERNEL,
                             output=tmp_path / "out", chunk_rows=500, jobs=jobs,
                             progress=False)
    assert result.chunks_run == 10
    values, columns = values_of(tmp_path / "out")
    np.testing.assert_array_equal(values, kernel_reference[1][0])
    assert columns == kernel_reference[1][1]


def test_input_formats_and_chunk_order_do_not_matter(data, model, kernel_reference):
    frame, csv, parquet = data
    ref, (values, columns) = kernel_reference
    assert ref.n_rows == 5000 and ref.n_chunks == 10
    assert columns[0] == "row" and columns[1] == "value:0:f0"
    assert len(columns) == 1 + 2 * 8 + 2 + 2  # row, values, base values, outputs
    # Efficiency row by row: sum of values + base value = the model's output.
    for label in (0, 1):
        vals = values[:, [columns.index(f"value:{label}:{f}") for f in _models.FEATURES]]
        base = values[:, columns.index(f"base_value:{label}")]
        out = values[:, columns.index(f"output:{label}")]
        np.testing.assert_allclose(vals.sum(1) + base, out, atol=1e-9)
    source = as_source(frame)
    manifest = json.loads((ref.output / MANIFEST).read_text())
    assert manifest["job"]["params"]["background"] == 20
    chunks = list(source.chunks(500, lambda i: i in (9, 3)))
    assert [c[:3] for c in chunks] == [(3, 1500, 2000), (9, 4500, 5000)]
    # every reader gives the same rows
    for path in (csv, parquet):
        other = as_source(path)
        got = list(other.chunks(700, lambda i: True))
        assert [c[1:3] for c in got][-1] == (4900, 5000)
        np.testing.assert_array_equal(np.concatenate([c[3] for c in got]), frame.to_numpy())
    np.testing.assert_array_equal(source.take(np.array([0, 4999])), frame.to_numpy()[[0, -1]])


def test_chunk_order_does_not_matter(data, model, kernel_reference, tmp_path, monkeypatch):
    from whylens.batch._data import Source

    chunks = Source.chunks

    def reversed_chunks(self, chunk_rows, wanted):
        return iter(list(chunks(self, chunk_rows, wanted))[::-1])

    monkeypatch.setattr(Source, "chunks", reversed_chunks)
    explain_dataset(model, data[0], "shap.kernel", params=KERNEL, output=tmp_path / "out",
                    chunk_rows=500, progress=False)
    np.testing.assert_array_equal(values_of(tmp_path / "out")[0], kernel_reference[1][0])


def test_csv_is_streamed_in_blocks(data, monkeypatch):
    from whylens.batch import _data

    monkeypatch.setattr(_data, "CSV_BLOCK_BYTES", 4096)
    monkeypatch.setattr(_data, "PARQUET_BATCH_ROWS", 128)
    frame, csv, parquet = data
    for path in (csv, parquet):
        source = as_source(path)
        blocks = list(source._blocks())
        assert len(blocks) > 10 and max(b.shape[0] for b in blocks) < 1000
        got = list(source.chunks(333, lambda i: True))
        np.testing.assert_array_equal(np.concatenate([c[3] for c in got]), frame.to_numpy())


def test_chunk_seed_depends_only_on_the_seed_and_the_range():
    assert chunk_seed(0, 0, 500) == chunk_seed(0, 0, 500)
    seeds = {chunk_seed(s, a, b) for s in (0, 1) for a, b in ((0, 500), (500, 1000), (0, 400))}
    assert len(seeds) == 6
    assert all(0 <= s < 2**63 for s in seeds)


def test_summary_is_the_mean_absolute_value_from_the_parts(kernel_reference):
    result, (values, columns) = kernel_reference
    summary = json.loads((result.output / "summary.json").read_text())
    assert summary == result.summary and summary["rows"] == 5000
    for label in ("0", "1"):
        for feature in _models.FEATURES:
            column = values[:, columns.index(f"value:{label}:{feature}")]
            assert summary["mean_abs"][label][feature] == pytest.approx(
                np.abs(column).mean(), rel=1e-12)
    manifest = json.loads((result.output / MANIFEST).read_text())
    assert manifest["complete"] and manifest["summary"] == summary
    assert manifest["job"]["method"] == "shap.kernel" and manifest["job"]["seed"] == 0
    assert [c["start"] for c in manifest["chunks"].values()] == list(range(0, 5000, 500))


# ---------------------------------------------------------------- methods
def test_linear_shap_closed_form(data, tmp_path):
    frame = data[0][:1200]
    model = _models.logistic()
    background = _models.table(300, seed=7)
    result = explain_dataset(model, frame, "shap.linear", params={"background": background},
                             output=tmp_path / "out", chunk_rows=250, jobs=2, progress=False)
    values, columns = values_of(tmp_path / "out")
    phi = values[:, [columns.index(f"value:1:{f}") for f in _models.FEATURES]]
    expected = model.coef_[0] * (frame.to_numpy() - background.to_numpy().mean(0))
    np.testing.assert_allclose(phi, expected, atol=1e-12)
    assert result.manifest["job"]["params"]["background"]["rows"] == 300


@pytest.mark.parametrize("method, params", [
    ("shap.tree", {}),
    ("shap.exact", {"background": 5}),
    ("shap.permutation", {"background": 5, "max_evals": 30}),
])
def test_other_shap_methods_add_up_and_ignore_the_worker_count(data, tmp_path, method,
                                                               params):
    model = _models.forest() if method == "shap.tree" else _models.logistic()
    frame = data[0][:600]
    runs = []
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        explain_dataset(model, frame, method, params=params, output=out, chunk_rows=150,
                        jobs=jobs, random_state=3, progress=False)
        runs.append(values_of(out))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    values, columns = runs[0]
    labels = [c.split(":")[1] for c in columns if c.startswith("base_value:")]
    for label in labels:
        vals = values[:, [columns.index(f"value:{label}:{f}") for f in _models.FEATURES]]
        total = vals.sum(1) + values[:, columns.index(f"base_value:{label}")]
        np.testing.assert_allclose(total, values[:, columns.index(f"output:{label}")],
                                   atol=1e-9)


def test_lime_rows_are_seeded_independently_of_workers_and_chunks(data, tmp_path):
    model = _models.logistic()
    frame = data[0][:300]
    params = {"num_samples": 50, "background": 200}
    runs = []
    for jobs, chunk in ((1, 100), (2, 70)):  # LIME seeds each row from its own range
        out = tmp_path / f"out{jobs}"
        explain_dataset(model, frame, "lime.tabular", params=params, output=out,
                        chunk_rows=chunk, jobs=jobs, progress=False)
        runs.append(values_of(out))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    columns = runs[0][1]
    assert "value:1:f0" in columns and "base_value:0" in columns
    # LIME's surrogate of a logistic model: f0 (weight 2) matters more than f3 (weight 0).
    summary = json.loads((tmp_path / "out1" / "summary.json").read_text())
    assert summary["mean_abs"]["1"]["f0"] > 2 * summary["mean_abs"]["1"]["f3"]


# ---------------------------------------------------------------- resume
def test_damaged_part_is_detected_and_redone(data, model, kernel_reference, tmp_path):
    out = tmp_path / "out"
    frame = data[0]
    first = explain_dataset(model, frame, "shap.kernel", params=KERNEL, output=out,
                            chunk_rows=500, progress=False)
    assert first.chunks_run == 10
    parts = sorted(out.glob("part-*.parquet"))
    damaged = parts[3].read_bytes()
    parts[3].write_bytes(damaged[: len(damaged) // 2])  # truncated by a crash
    parts[7].unlink()  # lost
    (out / (parts[5].name + ".tmp-999")).write_bytes(b"half a part")  # left by a kill
    again = explain_dataset(model, frame, "shap.kernel", params=KERNEL, output=out,
                            chunk_rows=500, progress=False)
    assert again.chunks_redone == [3, 7] and again.chunks_run == 2
    assert again.chunks_reused == 8
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [p.name for p in parts] + [MANIFEST, "summary.json"])
    np.testing.assert_array_equal(values_of(out)[0], kernel_reference[1][0])
    # Nothing to do on a third run; resume=False redoes everything, same values.
    assert explain_dataset(model, frame, "shap.kernel", params=KERNEL, output=out,
                           chunk_rows=500, progress=False).chunks_run == 0
    fresh = explain_dataset(model, frame, "shap.kernel", params=KERNEL, output=out,
                            chunk_rows=500, progress=False, resume=False)
    assert fresh.chunks_run == 10
    np.testing.assert_array_equal(values_of(out)[0], kernel_reference[1][0])


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "whylens.cli", "explain", *args]


def test_sigkill_then_rerun_gives_every_row_once(data, kernel_reference, tmp_path):
    out = tmp_path / "out"
    command = _cli("tests.batch._models:slow_logistic", str(data[1]), "--method",
                   "shap.kernel", "--param", "nsamples=40", "--param", "background=20",
                   "--chunk-rows", "500", "--output", str(out), "--jobs", "2",
                   "--no-progress")
    env = {**os.environ, "WHYLENS_TEST_DELAY": "0.3", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finished = 0
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                finished = len(json.loads((out / MANIFEST).read_text())["chunks"])
            except (OSError, ValueError, KeyError):
                finished = 0
            if finished >= 2:
                break
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its workers
        process.communicate()
    assert 2 <= finished < 10, process.returncode
    manifest = json.loads((out / MANIFEST).read_text())
    assert not manifest["complete"]

    rerun = subprocess.run(command, cwd=REPO, env={**env, "WHYLENS_TEST_DELAY": "0"},
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "5000 rows in 10 parts" in rerun.stdout and "kept from an earlier run" in rerun.stdout
    kept = int(rerun.stdout.split("explained now, ")[1].split(" kept")[0])
    assert kept >= finished - 1  # a part listed at the kill may be the one being written
    values, columns = values_of(out)
    ref_values, ref_columns = kernel_reference[1]
    assert columns == ref_columns
    np.testing.assert_array_equal(values, ref_values)
    assert len(list(out.glob("part-*.parquet"))) == 10
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]


# ---------------------------------------------------------------- refusals
def _refusals(tmp_path, data, model):
    frame = data[0][:200]
    import joblib

    joblib.dump(model, tmp_path / "m.joblib")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    renamed = frame.rename(columns={"f7": "g"})
    text = frame.assign(f7="a")
    text.to_csv(tmp_path / "text.csv", index=False)
    text.to_parquet(tmp_path / "text.parquet")
    return [
        (dict(model=str(tmp_path / "m.joblib")), InputError, "trust_model"),
        (dict(model=str(tmp_path / "absent.skops")), InputError, "existing"),
        (dict(model="not a spec"), InputError, "package.module:factory"),
        (dict(model="tests.batch._models:nothing"), InputError, "nothing"),
        (dict(model=_models.named_logistic(), data=renamed), InputError, "missing"),
        (dict(data=frame.iloc[:, :7]), InputError, "n_features_in_"),
        (dict(method="shap.magic"), InputError, "method"),
        (dict(method="lime.image"), InputError, "not offered"),
        (dict(method="lime.text", params={"background": 5}), InputError, "no background"),
        (dict(method="lime.text", params={"text_column": "x"}), InputError, "text_column"),
        (dict(params={"nsample": 40}), InputError, "nsample"),
        (dict(params={"nsamples": "many"}), InputTypeError, "nsamples"),
        (dict(params={"background": 0}), InputError, "background"),
        (dict(engine="spark"), InputError, "engine"),
        (dict(address="ray://x:10001"), InputError, "address"),
        (dict(random_state=None), InputTypeError, "random_state"),
        (dict(chunk_rows=0), InputError, "chunk_rows"),
        (dict(data=str(tmp_path / "t.txt")), InputError, "csv"),
        (dict(data=str(tmp_path / "absent.csv")), InputError, "existing file"),
        (dict(data=str(tmp_path / "text.csv")), InputError, "numbers"),
        (dict(data=str(tmp_path / "text.parquet")), InputError, "non-numeric"),
        (dict(data=text), InputError, "non-numeric"),
        (dict(data=[[1.0] * 8]), InputTypeError, "DataFrame"),
        (dict(output=tmp_path / "junk"), InputError, "other files"),
    ]


def test_refusals(data, model, tmp_path):
    base = dict(model=model, data=data[0][:200], method="shap.kernel", params=KERNEL,
                output=tmp_path / "out", progress=False)
    for change, error, match in _refusals(tmp_path, data, model):
        with pytest.raises(error, match=match):
            explain_dataset(**{**base, **change})
    assert not (tmp_path / "out").exists()  # nothing written for a refused job


def test_another_jobs_manifest_is_refused(data, model, tmp_path):
    out = tmp_path / "out"
    frame = data[0][:200]
    explain_dataset(model, frame, "shap.linear", output=out, progress=False)
    before = (out / MANIFEST).read_text()
    for change in (dict(random_state=1), dict(params={"nsamples": 10}),
                   dict(data=data[0][:201]), dict(model=_models.forest(), method="shap.tree"),
                   dict(chunk_rows=50)):
        call = {"model": model, "data": frame, "method": "shap.linear", "output": out,
                "progress": False, **change}
        with pytest.raises(InputError, match="another job"):
            explain_dataset(**call)
    assert (out / MANIFEST).read_text() == before


def test_trusted_model_files_load(data, model, tmp_path):
    import joblib
    import skops.io

    skops.io.dump(model, tmp_path / "m.skops")
    skops.io.dump(_models.Slow(), tmp_path / "slow.skops")
    with pytest.raises(InputError, match=r"tests\.batch\._models\.Slow"):
        explain_dataset(str(tmp_path / "slow.skops"), data[0][:100], "shap.kernel",
                        params=KERNEL, output=tmp_path / "refused", progress=False)
    assert not (tmp_path / "refused").exists()
    with pytest.raises(InputError, match="manifest"):
        open_output(tmp_path)
    joblib.dump(model, tmp_path / "m.joblib")
    runs = []
    for spec, trust in (("m.skops", False), ("m.joblib", True)):
        out = tmp_path / f"out-{spec}"
        explain_dataset(str(tmp_path / spec), data[0][:100], "shap.linear", output=out,
                        trust_model=trust, progress=False)
        runs.append(values_of(out)[0])
    np.testing.assert_array_equal(runs[0], runs[1])


def test_cli_explain(data, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["explain", "tests.batch._models:logistic", str(data[2]), "--method",
                 "shap.linear", "--output", str(out), "--chunk-rows", "2000", "--seed", "4",
                 "--no-progress"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "5000 rows in 3 parts" in printed.out and "mean |value| for 1: f0" in printed.out
    assert json.loads((out / MANIFEST).read_text())["job"]["seed"] == 4
    code = main(["explain", "tests.batch._models:logistic", str(data[2]), "--method",
                 "shap.kernel", "--param", "nsample=3", "--output", str(tmp_path / "o2")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nsample" in err
    code = main(["explain", "m", str(data[2]), "--method", "shap.kernel", "--param", "x",
                 "--output", str(tmp_path / "o3")])
    assert code == 2 and "KEY=VALUE" in capsys.readouterr().err


def test_method_table_lists_the_explanation_names():
    assert set(METHODS) == {"shap.kernel", "shap.tree", "shap.linear", "shap.permutation",
                            "shap.exact", "lime.tabular", "lime.text", "torch.gradcam",
                            "torch.gradcam++", "torch.hirescam", "torch.layercam",
                            "torch.integratedgradients", "torch.saliency"}


def test_columns_are_matched_by_name_for_a_model_fitted_on_a_frame(data, tmp_path):
    import warnings

    model = _models.named_logistic()
    frame = data[0][:400]
    shuffled = frame[_models.FEATURES[::-1]]
    shuffled.to_csv(tmp_path / "shuffled.csv", index=False)
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        for name, table in (("frame", frame), ("csv", str(tmp_path / "shuffled.csv"))):
            explain_dataset(model, table, "shap.kernel", params=KERNEL,
                            output=tmp_path / name, chunk_rows=150, progress=False)
            runs.append(values_of(tmp_path / name))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1][1:9] == [f"value:0:{f}" for f in _models.FEATURES]


def test_lime_text_over_a_text_column(tmp_path):
    model = _models.sentiment()
    frame = _models.reviews(120)
    frame.loc[[7, 99, 100, 101], "review"] = ["", " ,, ", "", ""]  # no words: empty lists
    frame.assign(stars=1).to_parquet(tmp_path / "reviews.parquet", row_group_size=50)
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    params = {"num_samples": 40, "text_column": "review"}
    runs = []
    for jobs, data in ((1, frame), (2, str(tmp_path / "reviews.parquet")),
                       (1, str(tmp_path / "reviews.csv"))):
        out = tmp_path / f"out{len(runs)}"
        result = explain_dataset(model, data, "lime.text", params=params, output=out,
                                 chunk_rows=3 if len(runs) == 2 else 50, jobs=jobs,
                                 progress=False)
        runs.append(open_output(out).to_table().sort_by("row"))
    assert runs[0].column("row").to_pylist() == list(range(120))
    # bit for bit, whatever the reader, workers and chunk size (rows 99-101: an empty chunk)
    assert runs[0].equals(runs[1]) and runs[0].equals(runs[2])
    table = runs[0].to_pydict()
    assert table["tokens"][0] == list(dict.fromkeys(frame["review"][0].split()))  # bow
    proba = model.predict_proba(["", " ,, "])
    for row, p in ((7, proba[0]), (101, proba[0]), (99, proba[1])):
        assert table["tokens"][row] == [] and table["value:1"][row] == []
        assert table["output:1"][row] == table["base_value:1"][row] == pytest.approx(p[1])
    # Class 1 is "has a positive word": those words push it up, negative ones down.
    summary = result.summary["mean_abs"]["1"]
    assert set(summary) == set(_models.POSITIVE + _models.NEGATIVE + _models.NEUTRAL)
    signed = {}
    for words, values in zip(table["tokens"], table["value:1"], strict=True):
        for word, value in zip(words, values, strict=True):
            signed.setdefault(word, []).append(value)
    assert all(np.mean(signed[w]) > 0 for w in _models.POSITIVE)
    assert all(np.mean(signed[w]) < 0 for w in _models.NEGATIVE)
    assert min(summary[w] for w in _models.POSITIVE) > max(summary[w] for w in _models.NEUTRAL)


def test_in_flight_keeps_the_window_reads_tasks_lazily_and_cancels_on_close():
    """The engines' scheduler: never more than ``window`` handles pending, a task is read
    only when there is room, every task's handle comes back once, and closing early
    cancels exactly the handles still pending."""
    from whylens.batch._engines import in_flight

    read: list[int] = []
    peak = [0]

    def tasks():
        for i in range(10):
            read.append(i)
            yield i

    def wait_any(pending):
        peak[0] = max(peak[0], len(pending))
        return pending[:1], pending[1:]  # the oldest finishes first

    out = list(in_flight(tasks(), lambda t: ("handle", t), wait_any, window=3))
    assert out == [("handle", i) for i in range(10)] and peak[0] == 3
    read.clear()
    cancelled: list = []
    handles = in_flight(tasks(), lambda t: t, wait_any, window=4, cancel=cancelled.append)
    assert [next(handles), next(handles)] == [0, 1]
    assert read == [0, 1, 2, 3, 4]  # four in flight, then one more after the first finished
    handles.close()
    assert cancelled == [2, 3, 4]
