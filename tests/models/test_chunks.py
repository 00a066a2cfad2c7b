"""Chunk sizes chosen by a timing probe: known sizes on a fake clock, bounded, row order kept."""

from __future__ import annotations

import math

import numpy as np
import pytest

from whylens.models import _base, _chunks, as_model
from whylens.models._chunks import PROBE_MIN_ROWS, ChunkReport, probe_sizes, run_chunked


class FakeClock:
    """A clock that only moves when the fake model works: ``cost(rows)`` seconds per call."""

    def __init__(self, per_row) -> None:
        self.now = 0.0
        self.per_row = per_row
        self.calls: list[int] = []

    def __call__(self) -> float:
        return self.now

    def work(self, rows: int) -> None:
        self.calls.append(rows)
        self.now += rows * self.per_row(rows)


def fastest_at(best: int):
    """Seconds per row, 1 ms at ``best`` rows per call, +1 ms per doubling away from it."""
    return lambda rows: 1e-3 * (1.0 + abs(math.log2(rows / best)))


def cnn_like(best: int):
    """A CNN on a CPU: rows cost 1 ms at ``best`` per call, 10 % more per halving
    below it and 50 % more per doubling above it (caches)."""
    def per_row(rows):
        octaves = math.log2(rows / best)
        return 1e-3 * (1.0 + (0.5 * octaves if octaves > 0 else -0.1 * octaves))
    return per_row


def tabulated(ms_per_row: dict[int, float]):
    """Seconds per row interpolated (in log2 of the size) from measured ms per row."""
    sizes = sorted(ms_per_row)
    return lambda rows: 1e-3 * float(np.interp(math.log2(rows), np.log2(sizes),
                                               [ms_per_row[s] for s in sizes]))


@pytest.fixture
def clock(monkeypatch):
    def install(per_row):
        fake = FakeClock(per_row)
        monkeypatch.setattr(_chunks, "_clock", fake)
        return fake

    return install


def test_probe_sizes_double_up_to_the_cap_within_half_the_job():
    assert probe_sizes(85, 1000) == [4, 8, 16, 32, 64, 85]
    assert probe_sizes(27, 300) == [4, 8, 16, 27]
    # a warm-up chunk of 4 and two chunks of every size fit in half the job: 4 + 2 * 28 <= 75
    assert probe_sizes(85, 150) == [4, 8, 16]
    assert probe_sizes(27, 192) == [4, 8, 16]  # 4 + 2 * 55 > 96
    assert probe_sizes(85, PROBE_MIN_ROWS - 1) == []  # too small to amortise
    assert probe_sizes(1000, 1000) == []  # one chunk holds it all
    # under PROBE_SMALL_CAP rows (large images) the probe starts at one row
    assert probe_sizes(13, 1000) == [1, 2, 4, 8, 13]
    assert probe_sizes(2, 1000) == [1, 2]
    assert probe_sizes(1, 1000) == []  # nothing smaller than the cap to try


def test_probe_picks_the_fastest_size_and_its_rows_are_real_work(clock):
    fake = clock(fastest_at(16))

    def work(start, stop):
        fake.work(stop - start)
        return np.arange(start, stop)

    parts, report = run_chunked(1000, work, cap=85)
    # warm-up 4; 4 and 16 (3x cheaper per row: the call cost may dominate); the cap (85)
    # is dearer than 16, so every size is timed twice: 4, 8, 16 (best), 32 (2x slower: stop)
    assert fake.calls[:10] == [4, 4, 16, 85, 4, 8, 8, 16, 32, 32]
    assert set(fake.calls[10:-1]) == {16} and fake.calls[-1] <= 16
    assert report.chunk_size == 16 and sorted(report.probed) == [4, 8, 16, 32]
    np.testing.assert_array_equal(np.concatenate(parts), np.arange(1000))  # no row twice
    assert sum(fake.calls) == 1000 and max(fake.calls) <= 85 == report.cap


def test_probe_goes_up_to_the_cap_when_larger_is_faster(clock):
    # 1 ms per row plus 10 ms per call: rows in chunks of 4 cost 2.2x those in 16, and
    # the cap's cost no more: the cap after three timed chunks
    fake = clock(lambda rows: 1e-3 + 1e-2 / rows)
    _, report = run_chunked(2000, lambda a, b: fake.work(b - a), cap=100)
    assert fake.calls[:4] == [4, 4, 16, 100] and set(fake.calls[4:-1]) == {100}
    assert report.chunk_size == 100 and sorted(report.probed) == [4, 16, 100]
    # 3 ms per call: 1.5x, under PROBE_OVERHEAD_RATIO: every size twice, up to the cap;
    # each doubling is faster per row, 64 by 4.3 % over 32, the cap by only 1.6 % over
    # 64: within PROBE_MARGIN, so 64
    fake = clock(lambda rows: 1e-3 + 3e-3 / rows)
    _, report = run_chunked(2000, lambda a, b: fake.work(b - a), cap=100)
    assert report.chunk_size == 64 and sorted(report.probed) == [4, 8, 16, 32, 64, 100]
    assert max(fake.calls) == 100 and sum(fake.calls) == 2000


def test_a_larger_size_must_win_by_the_margin(clock):
    """Sizes whose rows cost within PROBE_MARGIN of each other keep the smaller one
    (two timed chunks cannot tell them apart; it holds less memory); a larger size
    faster by more than the margin is taken."""
    margin = _chunks.PROBE_MARGIN
    for faster, expected in ((margin / 2, 4), (2 * margin, 8)):
        per_row = {4: 1e-3, 8: 1e-3 * (1 - faster), 16: 2e-3}
        fake = clock(lambda rows, table=per_row: table[rows] if rows in table else 2e-3)
        _, report = run_chunked(1000, lambda a, b, fake=fake: fake.work(b - a), cap=16)
        assert report.chunk_size == expected, (faster, report.probed)


@pytest.mark.parametrize("burst_at", [8, 16])
def test_one_slow_chunk_does_not_decide(clock, burst_at):
    """Another process's burst in one chunk neither stops the probe (at 8) nor hands
    the job to a slower size (at 16, the best): each size counts its faster chunk."""
    fake = clock(cnn_like(16))
    slow = [True]

    def work(start, stop):
        rows = stop - start
        fake.work(rows)
        if rows == burst_at and slow[0]:
            slow[0] = False
            fake.now += 1.0
        return rows

    _, report = run_chunked(1000, work, cap=85)
    assert fake.calls[:9] == [4, 4, 16, 4, 8, 8, 16, 32, 32] and report.chunk_size == 16
    assert report.probed[16] == pytest.approx(1e-3)


# ms per image of a 4-conv CNN (8-16-32-32 channels) on one CPU thread, measured by
# direct calls at each batch size (benchmarks/bench_lime_image.py's model).
CNN_224 = {1: 7.67, 4: 5.10, 8: 5.13, 10: 5.35, 16: 6.73, 32: 8.74, 64: 10.94}
CNN_64 = {1: 0.505, 4: 0.488, 8: 0.439, 10: 0.420, 16: 0.412, 32: 0.412, 64: 0.418,
          128: 0.614, 170: 0.625, 256: 0.691}


CNN_512 = {1: 25.2, 2: 35.0, 4: 44.4}


@pytest.mark.parametrize(("profile", "cap"),
                         [(CNN_224, 27), (CNN_224, 13), (CNN_64, 170), (CNN_512, 2)])
def test_probed_run_is_never_slower_than_fixed_chunks_of_ten(clock, profile, cap):
    """On measured CNN costs the probe, its own chunks included, takes no longer than
    lime's fixed 10 images per call (at 64 px the cap alone would take 1.5x longer)."""
    fake = clock(tabulated(profile))
    run_chunked(1000, lambda a, b: fake.work(b - a), cap=cap)
    probed = fake.now
    fake.now = 0.0
    run_chunked(1000, lambda a, b: fake.work(b - a), cap=cap, chunk_size=min(10, cap))
    assert probed <= fake.now


def test_results_do_not_depend_on_the_chunks(clock):
    clock(cnn_like(16))
    X = np.random.default_rng(1).normal(size=(700, 5))

    def rows(a, b):  # each row on its own (a matrix product's blocking depends on the rows)
        return np.tanh(X[a:b]) * X[a:b, :1] + np.exp(X[a:b])

    outs = []
    for kwargs in ({}, {"chunk_size": 10}, {"chunk_size": 1}, {"chunk_size": 700}):
        parts, report = run_chunked(700, rows, cap=85, **kwargs)
        assert isinstance(report, ChunkReport)
        outs.append(np.concatenate(parts))
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def test_fixed_size_known_size_and_fast_jobs_are_not_probed(clock):
    fake = clock(fastest_at(16))
    _, report = run_chunked(1000, lambda a, b: fake.work(b - a), cap=85, chunk_size=10)
    assert set(fake.calls) == {10} and report.probed == {}
    fake.calls.clear()
    _, report = run_chunked(1000, lambda a, b: fake.work(b - a), cap=85, known=32)
    assert fake.calls[0] == 32 and report.chunk_size == 32 and report.probed == {}
    fast = clock(lambda rows: 1e-9)  # the whole job would take 1 us: timings are noise
    _, report = run_chunked(1000, lambda a, b: fast.work(b - a), cap=85)
    assert fast.calls[0] == 4 and set(fast.calls[1:-1]) == {85} and report.probed == {}


def test_rows_dominated_by_the_call_cost_go_to_the_cap(clock):
    """A scikit-learn pipeline (per-call cost dominates) runs at the cap after three
    small chunks (warm-up, 4 and 16), even when the whole job is long enough to time."""
    fake = clock(lambda rows: 2e-5 + 5e-4 / rows)  # 20 us per row, 0.5 ms per call
    _, report = run_chunked(20000, lambda a, b: fake.work(b - a), cap=3000)
    assert fake.calls[:4] == [4, 4, 16, 3000] and set(fake.calls[3:-1]) == {3000}
    assert report.chunk_size == 3000 and sum(fake.calls) == 20000


def test_model_probes_once_per_row_shape_and_never_exceeds_the_budget(clock):
    fake = clock(fastest_at(8))
    seen = []

    def f(X):
        seen.append(len(X))
        fake.work(len(X))
        return X @ np.array([[1.0], [-2.0]])

    model = as_model(f, memory_budget=2 * 8 * 8 * 50)  # 2 float64 columns x factor 8: 50 rows
    X = np.random.default_rng(0).normal(size=(600, 2))
    out = model(X, progress=False)
    np.testing.assert_array_equal(out, X @ np.array([[1.0], [-2.0]]))  # same bits as one call
    assert max(seen) <= 50 and model.max_chunk_seen <= 50
    assert model.last_chunks.chunk_size == 8 and model.tuned_chunk_sizes
    seen.clear()
    model(X, progress=False)  # the size is remembered: no second probe
    assert set(seen[:-1]) == {8} and model.last_chunks.probed == {}
    fixed = as_model(f, memory_budget=2 * 8 * 8 * 50, chunk_size=7)
    seen.clear()
    fixed(X, progress=False)
    assert set(seen[:-1]) == {7}


def test_model_probe_can_be_turned_off(clock):
    clock(fastest_at(8))
    model = _base.Model(lambda X: X[:, 0], memory_budget=8 * 8 * 50, probe_chunks=False)
    model(np.zeros((600, 1)), progress=False)
    assert model.last_chunks.chunk_size == 50 and model.last_chunks.probed == {}


def test_callback_sees_every_row_once_with_a_probe(clock):
    fake = clock(fastest_at(16))
    calls = []
    model = as_model(lambda X: fake.work(len(X)) or X[:, 0], memory_budget=8 * 8 * 50)
    model(np.zeros((400, 1)), progress=False, callback=lambda d, t: calls.append((d, t)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 400 and {t for _, t in calls} == {400}
    assert np.diff([0, *done]).tolist() == fake.calls


class _Stderr:
    """A stand-in for sys.stderr that records what is written and says whether it is a tty."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.parts: list[str] = []

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    @property
    def text(self) -> str:
        return "".join(self.parts)


@pytest.mark.parametrize(
    ("progress", "tty", "shown"),
    [
        (None, False, False),  # default, not a terminal (a log, CI, a pipe): no bar
        (None, True, True),  # default in a terminal: a bar
        (False, True, False),  # progress=False: never
        (True, False, True),  # progress=True: always
    ],
)
def test_progress_bar_follows_the_terminal_and_the_flag(monkeypatch, progress, tty, shown):
    import sys

    stderr = _Stderr(tty)
    monkeypatch.setattr(sys, "stderr", stderr)
    model = as_model(lambda X: X[:, 0], chunk_size=10)
    out = model(np.arange(50.0).reshape(50, 1), progress=progress)
    np.testing.assert_array_equal(out[:, 0], np.arange(50.0))
    if shown:
        assert "\rwhylens: " in stderr.text and "/50 [" in stderr.text  # tqdm's bar of 50 rows
    else:
        assert stderr.text == ""


def test_one_chunk_shows_no_bar_and_explainers_pass_progress_on(monkeypatch):
    import sys

    from whylens.lime import LimeTabularExplainer

    stderr = _Stderr(tty=True)
    monkeypatch.setattr(sys, "stderr", stderr)
    as_model(lambda X: X[:, 0], chunk_size=100)(np.zeros((50, 1)))  # fits one chunk
    assert stderr.text == ""

    X = np.random.default_rng(0).normal(size=(100, 3))
    explainer = LimeTabularExplainer(X, mode="regression", random_state=0)
    model = as_model(lambda Z: Z[:, 0], chunk_size=100)
    explainer.explain_instance(X[0], model, num_samples=500, progress=False)
    assert stderr.text == ""
    stderr.tty = False
    explainer.explain_instance(X[0], model, num_samples=500, progress=True)
    assert "\rwhylens: " in stderr.text and "/500 [" in stderr.text


def test_lime_sized_text_jobs_reach_a_text_model_in_one_call():
    """5000 perturbed reviews of ~250 characters (rt-polarity's longest is 49 words) fit
    the default budget in one call: a TF-IDF pipeline costs little per row, and
    splitting the job only adds per-call overhead (it used to take three calls)."""
    docs = ["word " * 50] * 5000  # 250 characters
    calls: list[int] = []

    def predict(batch):
        calls.append(len(batch))
        return np.zeros((len(batch), 2))

    model = as_model(predict)
    assert model.chunk_size_for(docs) >= 5000
    model(docs)
    assert calls == [5000]
