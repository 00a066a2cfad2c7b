"""One re-entrant lock per model object, for methods that hook or toggle a model.

Lives outside ``whylens.torch`` (and imports nothing of torch) so that the
model adapters and the hook manager can both take it without importing each
other.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

__all__ = ["model_lock"]

_LOCKS: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def model_lock(model: Any) -> threading.RLock:
    """The re-entrant lock of ``model``: one per module object, for its lifetime.

    Every whylens method that registers hooks on a model or changes its
    flags (training mode, ``requires_grad``) holds this lock for the whole
    call, so calls on one model from many threads run one at a time (each sees
    only its own hooks and restores exactly the flags it found), while calls
    on different models run in parallel. :class:`capture` takes it too; it is
    re-entrant, so a method may open several captures inside its own hold.

    Returns
    -------
    threading.RLock
    """
    with _LOCKS_GUARD:
        lock = _LOCKS.get(model)
        if lock is None:
            lock = _LOCKS[model] = threading.RLock()
        return lock
