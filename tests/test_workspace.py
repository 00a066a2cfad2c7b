"""Scratch arrays: one pool for all threads, never shared while in use, bounded, released."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from whylens import _workspace
from whylens._workspace import pooled_bytes, release, scratch


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def _empty_pool():
    release()
    yield
    release()


def test_a_returned_buffer_serves_the_next_borrow() -> None:
    with scratch((100, 3), slot="test.reuse") as a:
        a[:] = 1.0
        address = _address(a)
    assert pooled_bytes() == 2400
    with scratch((50, 2), slot="test.reuse") as b:
        assert b.shape == (50, 2) and b.dtype == np.float64 and b.flags.c_contiguous
        assert _address(b) == address
        assert pooled_bytes() == 0  # taken out while borrowed


def test_a_slot_gets_back_its_own_buffer_and_others_the_smallest_that_fits() -> None:
    with scratch((1000,), slot="test.big") as big, scratch((10,), slot="test.small") as small:
        big_at, small_at = _address(big), _address(small)
    with scratch((5,), slot="test.big") as again:
        assert _address(again) == big_at
    with scratch((5,), slot="test.other") as other:
        assert _address(other) == small_at


def test_nested_borrows_get_distinct_memory() -> None:
    with scratch((10,), slot="test.nested") as outer:
        outer[:] = 7.0
        with scratch((10,), slot="test.nested") as inner:
            assert _address(inner) != _address(outer)
            inner[:] = -1.0
        np.testing.assert_array_equal(outer, 7.0)


def test_four_threads_borrowing_at_once_get_distinct_memory() -> None:
    """Four threads hold a borrow at the same time (a barrier inside the block): four
    different buffers, each keeping what its thread wrote; afterwards all four are
    pooled and shared by later borrows of any thread."""
    barrier = threading.Barrier(4)
    seen: dict[int, int] = {}
    intact: dict[int, bool] = {}

    def borrow(i: int) -> None:
        with scratch((4096,), slot="test.threads") as arr:
            arr[:] = i
            seen[i] = _address(arr)
            barrier.wait(timeout=30)
            barrier.wait(timeout=30)  # everyone has written before anyone checks
            intact[i] = bool((arr == i).all())

    for _round in range(2):
        threads = [threading.Thread(target=borrow, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(seen.values())) == 4
        assert all(intact.values()) and len(intact) == 4
        assert pooled_bytes() == 4 * 4096 * 8
    with scratch((4096,), slot="test.threads") as mine:
        assert _address(mine) in seen.values()


def test_the_pool_is_bounded_in_total(monkeypatch) -> None:
    """However many buffers were borrowed at once, the pool keeps at most
    MAX_POOL_BYTES of them afterwards, dropping the least recently returned."""
    monkeypatch.setattr(_workspace, "MAX_POOL_BYTES", 10_000)
    with scratch((500,), slot="a") as a, scratch((500,), slot="b") as b, \
            scratch((500,), slot="c") as c:
        addresses = [_address(x) for x in (a, b, c)]
    # returned c, b, a (inner blocks end first): 3 x 4000 bytes, c is dropped
    assert pooled_bytes() == 8000
    kept = []
    with scratch((500,), slot="x") as x, scratch((500,), slot="y") as y, \
            scratch((500,), slot="z") as z:
        kept = [_address(v) for v in (x, y, z)]
    assert addresses[2] not in kept[:2] and set(kept[:2]) == {addresses[0], addresses[1]}


def test_requests_above_the_cap_are_not_pooled(monkeypatch) -> None:
    monkeypatch.setattr(_workspace, "MAX_SCRATCH_BYTES", 64)
    with scratch((100,), slot="test.big") as big:
        assert big.shape == (100,)
    assert pooled_bytes() == 0


def test_release_drops_every_free_buffer_and_borrowed_ones_come_back() -> None:
    with scratch((1000,), slot="test.a"):
        pass
    with scratch((3000,), slot="test.held") as held:  # too large for the free one
        assert release() == 8000
        assert pooled_bytes() == 0
        held[:] = 1.0
    assert pooled_bytes() == 24000
    assert release() == 24000 and pooled_bytes() == 0


def test_buffers_idle_for_too_long_are_dropped(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(_workspace.time, "monotonic", lambda: clock[0])
    with scratch((100,), slot="test.idle") as a:
        first = _address(a)
    clock[0] += _workspace.IDLE_SECONDS / 2
    with scratch((100,), slot="test.idle") as a:
        assert _address(a) == first
    clock[0] += _workspace.IDLE_SECONDS * 2
    with scratch((10,), slot="test.fresh"):
        assert pooled_bytes() == 0  # the idle buffer was dropped at this borrow
