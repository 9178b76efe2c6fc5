"""Run slow work (reading a big clip, evaluating it) off the UI thread.

An artist dragging the noise slider asks for a new evaluation on every pixel;
computing each one in order would leave the view seconds behind the slider.
:class:`TaskRunner` keeps at most one task per *key* running and only the
newest request waiting, so the view always catches up with the latest value
and requests overtaken before they started are never computed. A key marked
``progressive`` (the evaluation) also delivers a result that was overtaken
while it ran: it is still newer than what is on screen, so the plots move
*during* a drag instead of only after the release; results older than the
one shown never exist, as a key runs one task at a time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .qt import QtCore, Signal

log = logging.getLogger(__name__)


class _Signals(QtCore.QObject):
    done = Signal(object, object, float)  # ticket, result, seconds
    failed = Signal(object, object)  # ticket, exception


class _Task(QtCore.QRunnable):
    def __init__(self, ticket: "_Ticket", signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._ticket = ticket
        self._signals = signals

    def run(self) -> None:
        start = time.perf_counter()
        try:
            result = self._ticket.fn(*self._ticket.args)
        except BaseException as exc:  # noqa: BLE001 - reported on the UI thread, never lost in a thread
            self._signals.failed.emit(self._ticket, exc)
            return
        self._signals.done.emit(self._ticket, result, time.perf_counter() - start)


@dataclass
class _Ticket:
    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    progressive: bool = False
    submitted: float = field(default_factory=time.perf_counter)


class TaskRunner(QtCore.QObject):
    """Latest-wins background tasks, results delivered on the UI thread.

    Signals:
        busyChanged(bool): True while any task runs or waits.
    """

    busyChanged = Signal(bool)

    def __init__(self, parent: QtCore.QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _Signals(self)
        self._signals.done.connect(self._on_done)
        self._signals.failed.connect(self._on_failed)
        self._running: dict[str, _Ticket] = {}
        self._pending: dict[str, _Ticket] = {}
        self.last_seconds: dict[str, float] = {}
        """Wall time of the last finished task per key, from submit to result (benchmarks read it)."""

    @property
    def busy(self) -> bool:
        return bool(self._running or self._pending)

    def running(self, key: str) -> bool:
        """Whether a task of ``key`` runs or waits."""
        return key in self._running or key in self._pending

    def submit(
        self,
        key: str,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        progressive: bool = False,
    ) -> None:
        """Run ``fn(*args)`` in a worker thread; the newest request per key wins.

        ``on_done(result)`` or ``on_error(exception)`` run on the UI thread,
        and only for the newest request of the key: a request superseded
        while it ran is computed but not delivered, unless ``progressive``
        (its result is then shown while the newer one computes).
        """
        was_busy = self.busy
        ticket = _Ticket(key, fn, args, on_done, on_error, progressive)
        if key in self._running:
            self._pending[key] = ticket
        else:
            self._start(ticket)
        if not was_busy:
            self.busyChanged.emit(True)

    def _start(self, ticket: _Ticket) -> None:
        self._running[ticket.key] = ticket
        self._pool.start(_Task(ticket, self._signals))

    def _finish(self, ticket: _Ticket) -> bool:
        """Bookkeeping after a task; whether its result is still wanted."""
        if self._running.get(ticket.key) is ticket:
            del self._running[ticket.key]
        pending = self._pending.pop(ticket.key, None)
        if pending is not None:
            self._start(pending)
            return False
        return True

    def _on_done(self, ticket: _Ticket, result: Any, seconds: float) -> None:
        wanted = self._finish(ticket) or ticket.progressive
        if wanted:
            self.last_seconds[ticket.key] = time.perf_counter() - ticket.submitted
            if ticket.on_done is not None:
                ticket.on_done(result)
        if not self.busy:
            self.busyChanged.emit(False)

    def _on_failed(self, ticket: _Ticket, exc: BaseException) -> None:
        wanted = self._finish(ticket)
        if wanted:
            if ticket.on_error is not None:
                ticket.on_error(exc)
            else:
                log.error("background task %s failed", ticket.key, exc_info=exc)
        if not self.busy:
            self.busyChanged.emit(False)

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the pool is idle (for scripts and shutdown, not the UI)."""
        return bool(self._pool.waitForDone(msecs))
