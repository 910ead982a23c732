"""Reading on a dask.distributed cluster (`[cluster] scheduler`), when one machine is not enough.

The coordinating `watcher check` / `watcher run` keeps everything else: fetching in its threads
with the politeness per host (watcher.fetch), and the single database writer (watcher.store).
Only the pure reading jobs (watcher.reading.read, watcher.challenge.challenge_in) travel: each is
submitted to the cluster with its arguments (the fetched bytes and the previous version's
document), and its result or its named exception travels back, as with local workers.

The budget still holds on the cluster: on the dask worker the job runs through a local
watcher.budget.Workers, in a child process under RLIMIT_AS `[fetch] document_memory` and the
deadline `[fetch] document_seconds`, one child per dask worker thread. So a hostile document
costs its own source there too, and never the dask worker. Children need a dask worker that is
not daemonic (DASK_DISTRIBUTED__WORKER__DAEMON=False); one that is refuses jobs with one line.

Degradation: a dask worker that dies takes its tasks with it, and the scheduler runs them again
on another worker (up to `distributed.scheduler.allowed-failures` times, then the source fails
with ClusterError). A scheduler that cannot be reached at the start is a ClusterError before
anything is fetched (exit status 2); one lost during the run fails the readings under way and
those submitted until the client reconnects, each source with one line; the run goes on.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import replace
from typing import Any, TypeVar

from distributed import Client, Future, KilledWorker, get_worker
from distributed.comm.core import CommClosedError

import watcher
from watcher.budget import Budget, Workers
from watcher.errors import ClusterError

T = TypeVar("T")

CONNECT_SECONDS = 10.0  # to reach the scheduler, and for it to have a worker, at the start
_DAEMONIC = (
    "the dask worker runs as a daemonic process, which cannot start the readers' child processes: "
    "start it with DASK_DISTRIBUTED__WORKER__DAEMON=False"
)

_KILLED = "not read: every dask worker that ran this reading died (distributed.scheduler.allowed-failures)"


class ClusterWorkers(Workers):
    """Workers whose jobs run on the cluster at `scheduler`; may be called from many threads at
    once. Raises ClusterError at once when the scheduler cannot be reached, has no worker within
    CONNECT_SECONDS, or a worker cannot take watcher's jobs."""

    def __init__(self, budget: Budget, scheduler: str) -> None:
        super().__init__(replace(budget, processes=0))  # nothing is read in this process
        self.remote = budget
        self.scheduler = scheduler
        self._futures: set[Future[Any]] = set()
        self._client = _connect(scheduler)

    def close(self) -> None:
        self._client.close()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            futures = list(self._futures)
        for future in futures:
            future.cancel()

    def run(self, job: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """job(*args, **kwargs) on a dask worker under the budget; raises what the job raised,
        BudgetExceeded, Interrupted, or ClusterError when the cluster lost it."""
        with self._lock:
            self._go_on()
            self.jobs += 1
        if self._client.status != "running":
            raise ClusterError(f"not read: the dask scheduler at {self.scheduler} is not connected ({self._client.status})")
        # pure=False: two sources with the same body are two jobs; retries stay off, since a job's
        # own error is an answer; a lost worker's task is run again by the scheduler regardless
        future = self._client.submit(_run_there, self.remote, job, args, kwargs, pure=False)
        with self._lock:
            self._futures.add(future)
        try:
            return future.result()  # type: ignore[no-any-return]
        except CancelledError:
            self._go_on()  # stop() cancelled it
            raise ClusterError(f"not read: the connection to the dask scheduler at {self.scheduler} was lost") from None
        except CommClosedError:  # the scheduler went while the result was on its way
            raise ClusterError(f"not read: the connection to the dask scheduler at {self.scheduler} was lost") from None
        except KilledWorker:
            raise ClusterError(_KILLED) from None
        finally:
            with self._lock:
                self._futures.discard(future)


def _connect(scheduler: str) -> Client:
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"the dask scheduler at {scheduler} could not be reached: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        problems = {problem for problem in client.run(fitness, watcher.__version__).values() if problem}
    except (OSError, TimeoutError) as exc:
        client.close()
        raise ClusterError(f"the dask scheduler at {scheduler} has no worker ready: {exc}") from None
    except Exception as exc:  # a worker that cannot unpickle watcher's function: not installed there
        client.close()
        raise ClusterError(f"a dask worker of {scheduler} cannot run watcher's jobs: {type(exc).__name__}: {exc}") from None
    if problems:
        client.close()
        raise ClusterError(f"a dask worker of {scheduler} cannot read documents: {'; '.join(sorted(problems))}")
    return client


def fitness(version: str = watcher.__version__) -> str | None:
    """On a dask worker: why it cannot run the jobs of watcher `version`, or None."""
    if multiprocessing.current_process().daemon:
        return _DAEMONIC
    if version != watcher.__version__:
        return f"it has watcher {watcher.__version__} installed, the coordinator {version}"
    return None


# ---------------------------------------------------------------- on the dask worker

_HERE: dict[Budget, Workers] = {}  # this dask worker's readers, one set per budget
_HERE_LOCK = threading.Lock()


def _run_there(budget: Budget, job: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
    """The task: the job in one of this dask worker's reader processes, under the budget."""
    problem = fitness()
    if problem:
        raise ClusterError(problem)
    with _HERE_LOCK:
        workers = _HERE.get(budget)
        if workers is None:
            # one reader process per dask worker thread: at most that many documents at once
            workers = _HERE[budget] = Workers(replace(budget, processes=max(1, get_worker().state.nthreads)))
    return workers.run(job, *args, **kwargs)

