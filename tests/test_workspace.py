"""Scratch arrays: reused within a thread, never shared while in use."""

from __future__ import annotations

import threading

import numpy as np

from whylens import _workspace
from whylens._workspace import scratch


def test_a_slot_is_reused_between_calls() -> None:
    with scratch((100, 3), slot="test.reuse") as a:
        a[:] = 1.0
        address = a.__array_interface__["data"][0]
    with scratch((50, 2), slot="test.reuse") as b:
        assert b.shape == (50, 2) and b.dtype == np.float64 and b.flags.c_contiguous
        assert b.__array_interface__["data"][0] == address


def test_a_busy_slot_gives_a_fresh_array_to_a_nested_borrow() -> None:
    with scratch((10,), slot="test.nested") as outer:
        outer[:] = 7.0
        with scratch((10,), slot="test.nested") as inner:
            inner[:] = -1.0
        np.testing.assert_array_equal(outer, 7.0)


def test_other_slots_and_threads_get_their_own_memory() -> None:
    seen: dict[str, int] = {}

    def borrow(name: str) -> None:
        with scratch((1000,), slot="test.threads") as arr:
            seen[name] = arr.__array_interface__["data"][0]

    with scratch((1000,), slot="test.threads") as mine:
        thread = threading.Thread(target=borrow, args=("other",))
        thread.start()
        thread.join()
        with scratch((1000,), slot="test.threads.b") as second:
            assert second.__array_interface__["data"][0] != mine.__array_interface__["data"][0]
        assert seen["other"] != mine.__array_interface__["data"][0]


def test_requests_above_the_cap_are_not_kept(monkeypatch) -> None:
    monkeypatch.setattr(_workspace, "MAX_SCRATCH_BYTES", 64)
    with scratch((100,), slot="test.big") as big:
        assert big.shape == (100,)
    assert "test.big" not in getattr(_workspace._local, "buffers", {})


def test_a_lent_array_is_reused_only_when_nothing_kept_it() -> None:
    from whylens._workspace import lend

    def address(a: np.ndarray) -> int:
        return a.__array_interface__["data"][0]

    with lend((20, 3), slot="test.lend") as lease:
        first = address(lease.array)
        lease.array[:] = 1.0
    with lend((20, 3), slot="test.lend") as lease:  # nothing kept it: same memory
        assert address(lease.array) == first
        kept = lease.array[2:5, 1]  # a view outlives the block
        kept[:] = 5.0
    with lend((20, 3), slot="test.lend") as lease:  # the view's memory is left alone
        assert address(lease.array) != first
        lease.array[:] = -1.0
    np.testing.assert_array_equal(kept, 5.0)


def test_a_lease_that_ends_in_an_exception_is_not_reused() -> None:
    from whylens._workspace import lend

    with lend((10,), slot="test.raise"):
        pass
    before = _workspace._local.buffers["test.raise"]
    try:
        with lend((10,), slot="test.raise"):
            assert _workspace._local.buffers["test.raise"] is before
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert "test.raise" not in _workspace._local.buffers
    with lend((10,), slot="test.raise"):
        assert _workspace._local.buffers["test.raise"] is not before
