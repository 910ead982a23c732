"""Reading a document under a budget: a worker process with a memory limit and a deadline.

The readers cap what they can see coming (zip members by what they inflate to, PDF pages by the
objects their operators produce), and refuse most hostile files early with a precise message.
What they cannot see coming (a parser allocating gigabytes for a document that passed every cap,
markup that takes minutes) is stopped here: each job runs in a child process forked from a
forkserver that has imported the readers, with an address-space limit (RLIMIT_AS) and a
wall-clock deadline. A job over either is stopped, the caller gets BudgetExceeded for that one
document, and the run goes on. At most `processes` jobs run at once, so the memory of a run is
bounded too: about processes × memory, beside the coordinating process.

`processes = 0` runs jobs in the calling process, with no limit: for debugging only.

A program a reader starts (LibreOffice converting a .doc) inherits the worker's limit, and
LibreOffice does not start under 384 MB: it maps about 485 MB of address space to convert even a
small document (its resident peak is about 210 MB). So a worker's limit is soft, and its hard
limit is PROGRAM_MEMORY: the reader's own code still fails at `memory`, and only the program,
which raises its soft limit itself (program_limits), may use more. A hard limit cannot be raised
again by an unprivileged process, so this is the one place that decides it.
"""

from __future__ import annotations

import multiprocessing
import pickle
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from watcher.errors import BudgetExceeded, Interrupted
from watcher.formats import REGISTRY

T = TypeVar("T")

# What the forkserver imports once, so that each worker starts with the readers loaded: every
# reader of the format registry, and the differ.
_PRELOAD = [*dict.fromkeys(fmt.reader[0] for fmt in REGISTRY if fmt.reader), "watcher.differ", "watcher.differ.ledger"]
PROGRAM_MEMORY = 1024 * 1024 * 1024  # address space of a program a reader starts (LibreOffice)
_MEMORY_LEFT_FOR_REPLY = 16 * 1024 * 1024  # held during a job, freed to send its reply
_JOBS_PER_WORKER = 200  # then a new worker: a long-lived heap only grows


@dataclass(frozen=True)
class Budget:
    """What one document may cost: bytes of address space and seconds of wall-clock time."""

    memory: int  # address space of one worker: the imports take about 80 MB of it
    seconds: float
    processes: int  # workers at once; 0 runs jobs in the calling process


class Workers:
    """Runs jobs (module-level functions with picklable arguments) under one Budget, in at most
    `processes` worker processes that are kept between jobs; may be called from many threads at
    once. A worker that ran over its budget is killed and replaced."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.jobs = 0  # jobs run so far
        self._slots = threading.BoundedSemaphore(max(1, budget.processes))
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._stopping = False
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("forkserver") if budget.processes > 0 else None
        if self._context is not None:
            self._context.set_forkserver_preload(_PRELOAD)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()

    def stop(self) -> None:
        """Stop the run's reading (Ctrl-C): the jobs under way are killed, and they and every later
        job raise Interrupted. Any thread may call it."""
        with self._lock:
            self._stopping = True
            busy = list(self._busy)
        for worker in busy:
            worker.kill()

    def _go_on(self) -> None:
        if self._stopping:
            raise Interrupted("not read: the run was stopped")

    def run(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """job(*args, **kwargs) in a worker; raises what the job raised, or BudgetExceeded."""
        with self._lock:
            self._go_on()
            self.jobs += 1
        if self._context is None:
            return job(*args, **kwargs)
        with self._slots:
            with self._lock:
                self._go_on()
                worker = self._idle.pop() if self._idle else _Worker(self._context, self.budget.memory)
                self._busy.add(worker)
            try:
                outcome, value, spent = worker.ask((job, args, kwargs), self.budget.seconds)
            except BaseException:
                worker.stop()
                with self._lock:
                    self._go_on()  # stop() killed it
                raise
            finally:
                with self._lock:
                    self._busy.discard(worker)
            if spent or not worker.fresh_enough():
                worker.stop()
            else:
                with self._lock:
                    self._idle.append(worker)
        if outcome == "memory":
            raise BudgetExceeded(
                f"reading the document needed more than {self.budget.memory // 2**20} MB of memory; stopped"
            )
        if outcome == "error":
            raise value
        return value  # type: ignore[no-any-return]


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, context: Any, memory: int) -> None:
        self.jobs = 0
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, memory), daemon=True)
        self._process.start()
        child.close()

    def ask(self, request: tuple[Any, ...], seconds: float) -> tuple[str, Any, bool]:
        self.jobs += 1
        self._pipe.send(request)
        if not self._pipe.poll(seconds):
            raise BudgetExceeded(f"reading the document took longer than {seconds:g} s; stopped")
        try:
            return self._pipe.recv()  # type: ignore[no-any-return]
        except EOFError:
            self._process.join(5)
            raise BudgetExceeded(f"the reader stopped without an answer ({_exit(self._process.exitcode)})") from None

    def fresh_enough(self) -> bool:
        return self.jobs < _JOBS_PER_WORKER and self._process.is_alive()

    def stop(self) -> None:
        self._pipe.close()
        self.kill()
        self._process.join()

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()


def _exit(code: int | None) -> str:
    if code is None:
        return "still running"
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def _serve(pipe: Connection, memory: int) -> None:
    """A worker: limit the address space, then answer jobs until the pipe closes, each with
    (outcome, value, spent): ("ok", result), ("error", exception) or ("memory", None), and whether
    the job took the worker to its limit. A spent worker stops: its peak (VmPeak, which only
    grows) could no longer tell the next job's failed allocation from a damaged file."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, max(memory, PROGRAM_MEMORY)))
    # Ctrl-C reaches the whole process group: the coordinating process decides (Workers.stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    near_limit = memory - _MEMORY_LEFT_FOR_REPLY * 4
    while True:
        try:
            job, args, kwargs = pipe.recv()
        except EOFError:
            return
        reserve = bytearray(_MEMORY_LEFT_FOR_REPLY)
        try:
            outcome, value = "ok", job(*args, **kwargs)
        except MemoryError:
            outcome, value = "memory", None
        except Exception as exc:  # sent to the caller, which raises it there
            # Some parsers report a failed allocation as a damaged file: the peak says which it was.
            outcome, value = ("memory", None) if _peak() > near_limit else ("error", _portable(exc))
        del reserve
        spent = outcome == "memory" or _peak() > near_limit
        try:
            pipe.send((outcome, value, spent))
        except MemoryError:
            pipe.send(("memory", None, True))
            return
        if spent:
            return


def program_limits() -> None:
    """In a program a reader starts, before it runs (subprocess preexec_fn): PROGRAM_MEMORY of
    address space, or the hard limit where that is lower."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = PROGRAM_MEMORY if hard == resource.RLIM_INFINITY else min(PROGRAM_MEMORY, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _peak() -> int:
    """The process's peak address space in bytes (VmPeak), 0 where /proc does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _portable(exc: Exception) -> Exception:
    """The exception itself when it survives pickling both ways, else a RuntimeError naming it
    (an exception whose __init__ takes other arguments than its args cannot be rebuilt)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
