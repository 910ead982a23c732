"""`watcher run`: the long-running scheduler (APScheduler 3, a BackgroundScheduler).

- Each source is checked on its own cron `schedule` (default daily at 06:00, local time), with a
  random delay (jitter: up to 5 minutes, and never more than a quarter of the schedule's period)
  so that the sources of one host are not all fetched in the same second.
- Missed runs are coalesced into one (the host slept through 06:00: one check at wake-up, if within
  MISFIRE_GRACE), a source's job never runs twice at once (max_instances=1), and check runs go one
  at a time in this process, so the politeness limits of one run hold across jobs.
- The digest is sent on `[digest] schedule`.
- Every job holds the database lock of `watcher check` (Store.lock()) while it runs: a
  `watcher check` started by hand or by cron meanwhile gets LockedError (exit 4), and a job that
  finds the lock taken tries again every LOCK_RETRY seconds, for up to LOCK_PATIENCE, then skips
  this run; each step is logged.
- SIGINT or SIGTERM stops cleanly: no new job starts, a running one finishes, then run() returns.

Schedules are cron expressions of 5 fields (crontab: minute hour day month weekday) or 6 fields
with seconds first ("*/2 * * * * *": every 2 seconds), as parsed by watcher.config.parse_cron.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from watcher.config import parse_cron
from watcher.errors import LockedError, WatcherError
from watcher.language import rendering
from watcher.model import PROBLEM_STATUSES, Settings
from watcher.report.listings import check_line

log = logging.getLogger(__name__)

DEFAULT_SCHEDULE = "0 6 * * *"  # a source without `schedule`: daily at 06:00
MAX_JITTER = 300  # seconds
MISFIRE_GRACE = 3600  # seconds late a missed run may still start (once, coalesced)
LOCK_RETRY = 30  # seconds between attempts while another process holds the database lock
LOCK_PATIENCE = 600  # seconds a job waits for the lock before it skips this run
DIGEST_JOB = "digest"
# Missed runs coalesce into one; a job never overlaps itself.
JOB_OPTIONS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE}


def trigger(expr: str) -> CronTrigger:
    """The cron trigger of a schedule, with jitter scaled to its period."""
    cron = parse_cron(expr)
    first = cron.get_next_fire_time(None, datetime.now(cron.timezone))
    second = cron.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    period = (second - first).total_seconds() if first and second else 4 * MAX_JITTER
    # parse_cron builds the trigger; jitter is a plain attribute of APScheduler 3 triggers.
    cron.jitter = min(MAX_JITTER, int(period // 4)) or None
    return cron


class Jobs:
    """The job functions: each logs its run, and none lets an error reach the scheduler."""

    def __init__(self, settings: Settings, stopping: threading.Event) -> None:
        self.settings = settings
        self.stopping = stopping
        self.one_at_a_time = threading.Lock()

    def _run(self, name: str, work: Callable[[], None]) -> None:
        with self.one_at_a_time:
            if self.stopping.is_set():  # queued before the stop: do not start it
                log.info("%s: skipped, stopping", name)
                return
            started = time.monotonic()
            log.info("%s: start", name)
            try:
                self._patiently(name, work, started + LOCK_PATIENCE)
            except LockedError as exc:
                log.warning("%s: skipped: %s", name, exc)
            except WatcherError as exc:
                log.error("%s: %s", name, exc)
            except Exception:  # a bug must not stop the other jobs
                log.exception("%s: failed", name)
            else:
                log.info("%s: done in %.1f s", name, time.monotonic() - started)

    def _patiently(self, name: str, work: Callable[[], None], deadline: float) -> None:
        """Run `work`; while another process holds the database lock, try again a little later."""
        while True:
            try:
                return work()
            except LockedError as exc:
                if time.monotonic() + LOCK_RETRY > deadline or self.stopping.is_set():
                    raise
                log.info("%s: %s; trying again in %d s", name, exc, LOCK_RETRY)
            if self.stopping.wait(LOCK_RETRY):
                raise LockedError("stopping while another run held the lock")

    def check(self, source_name: str) -> None:
        from watcher.check import check_all

        def work() -> None:
            # check_all holds Store.lock() for the run, as `watcher check` does; its log lines are
            # worded in the report's language
            results = check_all(self.settings, names=[source_name])
            with rendering(self.settings.report.language, self.settings.report.timezone):
                for result in results:
                    (log.warning if result.status in PROBLEM_STATUSES else log.info)(check_line(result))

        self._run(f"check {source_name}", work)

    def digest(self) -> None:
        from watcher.channels import send_all
        from watcher.errors import DeliveryError
        from watcher.store import Store

        def work() -> None:  # send_all logs what it sent
            with Store(self.settings.storage_path) as store, store.lock():
                run = send_all(store, self.settings)
            if run.problems:
                raise DeliveryError("; ".join(run.problems))

        self._run(DIGEST_JOB, work)


def build_scheduler(settings: Settings, stopping: threading.Event) -> BackgroundScheduler:
    """A scheduler (not started) with one check job per source and the digest job."""
    jobs = Jobs(settings, stopping)
    workers = max(2, min(settings.fetch.workers, len(settings.sources) + 1))
    scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(workers)})
    for source in settings.sources:
        scheduler.add_job(
            jobs.check,
            trigger(source.schedule or DEFAULT_SCHEDULE),
            args=[source.name],
            id=f"check:{source.name}",
            name=f"check {source.name}",
            **JOB_OPTIONS,
        )
    scheduler.add_job(
        jobs.digest, trigger(settings.digest.schedule), id=DIGEST_JOB, name=DIGEST_JOB, **JOB_OPTIONS
    )
    return scheduler


def run(settings: Settings, stop_event: threading.Event | None = None) -> None:
    """Run the jobs until `stop_event` is set or the process gets SIGINT/SIGTERM."""
    stop = stop_event or threading.Event()
    signals = _Signals()
    scheduler = build_scheduler(settings, stop)
    scheduler.start()
    try:
        for job in scheduler.get_jobs():
            log.info("scheduled %s: %s, next at %s", job.name, job.trigger, job.next_run_time)
        log.info("watcher run: %d source(s), digest on %r", len(settings.sources), settings.digest.schedule)
        while not stop.wait(0.5):
            if signals.received is not None:
                log.info("received %s", signal.Signals(signals.received).name)
                signals.second_one_ends_the_process()
                stop.set()
        log.info("stopping: waiting for running jobs")
    finally:
        scheduler.pause()  # no new submissions while the executor shuts down
        scheduler.shutdown(wait=True)
        signals.restore()
    log.info("stopped")


class _Signals:
    """SIGINT and SIGTERM while `watcher run` runs (handlers only in the main thread).

    The handler only notes the signal; run() notices within half a second. Logging, or even setting
    an Event, takes locks that the interrupted main thread may be holding at that moment.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
            for sig in self.previous:
                signal.signal(sig, self._note)

    def _note(self, signum: int, frame: object) -> None:
        self.received = signum

    def second_one_ends_the_process(self) -> None:
        """A second signal is not ignored: it does what it would do without watcher."""
        for sig in self.previous:
            signal.signal(sig, signal.SIG_DFL)

    def restore(self) -> None:
        for sig, old in self.previous.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
