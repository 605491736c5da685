"""One lock per model, so that threads may share a fitted model safely.

Serving calls read the fitted state and run side by side; the calls that change it
(``partial_fit_users``, ``partial_fit_items``, ``add_items``, and the moment ``fit``
publishes its result) take it alone, so a reader never sees half of an update and two
updates never lose each other's rows. A fit computes without the lock, so serving goes on
from the earlier fit while a new one runs. The locks live beside the models (a weak
dictionary), not in them: models still copy, pickle and save as plain objects.
"""
from __future__ import annotations

import functools
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Callable, Concatenate, ParamSpec, TypeVar

    _P = ParamSpec("_P")
    _R = TypeVar("_R")
    _Self = TypeVar("_Self")

_locks: weakref.WeakKeyDictionary[object, ModelLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


class ModelLock:
    """Many readers or one writer; a thread that holds it may take it again (to read or,
    as the writer, to write)."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer: int | None = None            # the thread id of the writer
        self._writers_waiting = 0
        self._depth = threading.local()

    def _held(self) -> int:
        return getattr(self._depth, "value", 0)

    def read(self, call: Callable[[], _R]) -> _R:
        me = threading.get_ident()
        if self._held() or self._writer == me:
            return self._nested(call)
        with self._changed:
            while self._writer is not None or self._writers_waiting:
                self._changed.wait()
            self._readers += 1
        try:
            return self._nested(call)
        finally:
            with self._changed:
                self._readers -= 1
                self._changed.notify_all()

    def write(self, call: Callable[[], _R]) -> _R:
        me = threading.get_ident()
        if self._writer == me:
            return self._nested(call)
        if self._held():
            raise RuntimeError("a model cannot be changed from inside one of its own serving "
                               "calls")
        with self._changed:
            self._writers_waiting += 1
            try:
                while self._writer is not None or self._readers:
                    self._changed.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = me
        try:
            return self._nested(call)
        finally:
            with self._changed:
                self._writer = None
                self._changed.notify_all()

    def _nested(self, call: Callable[[], _R]) -> _R:
        depth = self._held()
        self._depth.value = depth + 1
        try:
            return call()
        finally:
            self._depth.value = depth


def lock_of(model: object) -> ModelLock:
    """The lock of ``model`` (made on first use)."""
    with _locks_guard:
        lock = _locks.get(model)
        if lock is None:
            lock = _locks[model] = ModelLock()
        return lock


def reads(method: Callable[Concatenate[_Self, _P], _R]) -> Callable[Concatenate[_Self, _P], _R]:
    """Run ``method`` while holding its model's lock to read."""
    @functools.wraps(method)
    def reading(self: _Self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return lock_of(self).read(lambda: method(self, *args, **kwargs))
    return reading


def writes(method: Callable[Concatenate[_Self, _P], _R]) -> Callable[Concatenate[_Self, _P], _R]:
    """Run ``method`` while holding its model's lock alone."""
    @functools.wraps(method)
    def writing(self: _Self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return lock_of(self).write(lambda: method(self, *args, **kwargs))
    return writing
