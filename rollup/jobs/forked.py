"""One call made in a forked process while this one goes on; its result, or its error, read back once.

A job's portfolio workbook is written this way beside its team workbooks (:func:`rollup.jobs.report.start_portfolio`):
both are CPU-bound, and one process uses one core. The child inherits everything the parent has read (no
store is read again); it writes only files, never the store, and lets go of the parent's database connections
without closing them. It cannot outlive the parent (a daemon process), ignores Ctrl-C (the parent decides) and
dies at once when cancelled.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Any

from rollup.errors import RollupError


def can_fork() -> bool:
    """Whether a call can run in a forked process here: the platform forks and this process runs no other thread
    (a fork copies only the calling thread, so a scheduler's threads would be copied mid-flight)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


class ForkedCall:
    """``fn()`` in a forked process, started at once; :meth:`result` waits for it, :meth:`cancel` ends it."""

    def __init__(self, fn: Callable[[], Any], *, what: str, store: Any = None) -> None:
        context = multiprocessing.get_context("fork")
        self.what = what
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(send, fn, store, what), daemon=True)
        self._process.start()
        send.close()
        self._done = False

    def result(self) -> Any:
        """The call's return value; its exception is raised here. A child that died says so, with its exit code."""
        if self._done:
            raise RuntimeError(f"the result of {self.what} was read already")
        self._done = True
        try:
            status, value = self._receive.recv()
        except EOFError:
            self._process.join()
            raise RollupError(f"{self.what} ended without a result (its process exited with code "
                              f"{self._process.exitcode})") from None
        finally:
            self._receive.close()
        self._process.join()
        if status == "error":
            raise value
        return value

    def cancel(self) -> None:
        """End the call now (nothing it was writing is kept by the caller)."""
        self._done = True
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=10)
            if self._process.is_alive():  # pragma: no cover - terminate is SIGTERM, whose default kills
                self._process.kill()
                self._process.join()
        self._receive.close()


def _child(send: Any, fn: Callable[[], Any], store: Any, what: str) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if store is not None:
        store.after_fork()
    try:
        outcome: tuple[str, Any] = ("ok", fn())
    except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent, which raises it
        outcome = ("error", exc)
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - an error that cannot travel back is sent as its message
            outcome = ("error", RollupError(f"{what}: {exc}"))
    send.send(outcome)
    send.close()
