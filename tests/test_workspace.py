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
