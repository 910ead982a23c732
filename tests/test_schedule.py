"""The scheduler of `watcher run`: triggers, job settings, and a real run against local HTTP and
SMTP servers, stopped with SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import case_bytes
from smtp_server import smtp_server

from watcher.config import load_settings
from watcher.schedule import DEFAULT_SCHEDULE, MAX_JITTER, MISFIRE_GRACE, build_scheduler, run, trigger
from watcher.store import Store


@pytest.mark.parametrize(
    ("expr", "jitter"),
    [
        ("0 6 * * *", MAX_JITTER),  # daily: spread over 5 minutes
        ("*/10 * * * *", 150),  # every 10 minutes: at most a quarter of the period
        ("*/2 * * * * *", None),  # every 2 seconds (6 fields, seconds first): no jitter
        ("30 0 6 * * *", MAX_JITTER),  # daily at 06:00:30
    ],
)
def test_jitter_scales_with_the_period(expr, jitter):
    assert trigger(expr).jitter == jitter


def test_six_fields_are_seconds_first():
    fields = {f.name: str(f) for f in trigger("*/2 * * * * *").fields}
    assert fields["second"] == "*/2" and fields["minute"] == "*"


def write_config(folder: Path, *, page_url: str, smtp_port: int, source_schedule: str, digest_schedule: str) -> Path:
    path = folder / "watcher.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [storage]
            path = "watcher.db"

            [fetch]
            delay = 0
            retries = 0
            timeout = 5

            [[source]]
            name = "haishu-plan"
            title = "海曙区科技创新“十四五”规划"
            url = "{page_url}"
            schedule = "{source_schedule}"
            tags = ["plans"]

            [[source]]
            name = "unscheduled"
            url = "{page_url}"

            [email]
            smtp_host = "127.0.0.1"
            smtp_port = {smtp_port}
            security = "none"
            from = "watcher@example.org"
            to = ["analyst@example.org"]

            [digest]
            schedule = "{digest_schedule}"
            """
        ),
        encoding="utf-8",
    )
    return path


def test_one_job_per_source_and_the_digest(tmp_path):
    scheduler = build_scheduler(local_settings(tmp_path, "*/5 * * * * *"), threading.Event())
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["check:haishu-plan", "check:unscheduled", "digest"]
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE
    assert str(jobs["check:unscheduled"].trigger) == str(trigger(DEFAULT_SCHEDULE))
    assert {f.name: str(f) for f in jobs["check:haishu-plan"].trigger.fields}["second"] == "*/5"
    assert {f.name: str(f) for f in jobs["digest"].trigger.fields}["hour"] == "8"


def wait_for(condition, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stored(db: Path, query):
    if not db.exists():
        return None
    with Store(db) as store:
        return query(store)


@pytest.mark.slow
def test_watcher_run_checks_stores_a_change_mails_the_digest_and_stops_on_sigterm(tmp_path, http_server):
    http_server.set("/plan.html", case_bytes("haishu-new-measure-html", "old.html"))
    db = tmp_path / "watcher.db"
    with smtp_server() as smtp:
        config = write_config(
            tmp_path, page_url=http_server.url("/plan.html"), smtp_port=smtp.port,
            source_schedule="* * * * * *", digest_schedule="*/2 * * * * *",
        )
        log_path = tmp_path / "run.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "watcher", "--config", str(config), "run"],
                stdout=subprocess.DEVNULL, stderr=log,
            )
            try:
                wait_for(lambda: stored(db, lambda s: s.versions("haishu-plan")), what="a first version")
                http_server.set("/plan.html", case_bytes("haishu-new-measure-html", "new.html"))
                wait_for(lambda: stored(db, lambda s: s.changes("haishu-plan")), what="a stored change")
                wait_for(lambda: smtp.inbox.messages, what="a digest")
                proc.send_signal(signal.SIGTERM)
                status = proc.wait(30)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    output = log_path.read_text()
    assert status == 0, output
    [mail] = smtp.inbox.messages  # later digest runs found nothing new to send
    assert mail.get_content_type() == "multipart/alternative"
    assert "上市培育工程" in mail.get_body(("plain",)).get_content()
    assert "新增举措 1 项" in mail["Subject"]  # the default language
    kinds = {row.kind for row in stored(db, lambda s: s.changes("haishu-plan"))}
    assert "measure_added" in kinds
    assert "received SIGTERM" in output and "stopped" in output
    assert "检查 haishu-plan：新版本 2" in output  # the service logs in the report language (zh by default)


def local_settings(tmp_path, source_schedule: str):
    """Settings whose source cannot be fetched (port 9 refuses): each check records a failure."""
    config = write_config(
        tmp_path, page_url="http://127.0.0.1:9/p.html", smtp_port=25,
        source_schedule=source_schedule, digest_schedule="0 8 * * *",
    )
    return load_settings(str(config))


@contextmanager
def running(settings) -> Iterator[threading.Thread]:
    """watcher.schedule.run in a thread, stopped (and joined) at the end of the block."""
    stop = threading.Event()
    runner = threading.Thread(target=run, args=(settings, stop))
    runner.start()
    try:
        yield runner
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


@contextmanager
def lock_held(db: str, seconds: float) -> Iterator[None]:
    """Another process holding the run lock of `db` for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(
            f"""
            import time
            from watcher.store import Store
            with Store({db!r}) as s, s.lock():
                print("locked", flush=True)
                time.sleep({seconds})
            """
        )],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_run_returns_when_its_stop_event_is_set(tmp_path):
    with running(local_settings(tmp_path, "0 6 * * *")) as runner:
        time.sleep(0.5)
        assert runner.is_alive()


def test_a_job_waits_while_another_process_holds_the_lock(tmp_path, caplog):
    caplog.set_level("INFO", logger="watcher.schedule")
    settings = local_settings(tmp_path, "* * * * * *")
    with lock_held(settings.storage_path, 30):
        with running(settings):
            wait_for(lambda: "another watcher run holds the lock" in caplog.text, 15, "a refused lock")
            assert "trying again in" in caplog.text  # it waits for the other run rather than failing
        assert "check haishu-plan: skipped" in caplog.text  # stopped while waiting
    with Store(settings.storage_path) as store:
        assert store.checks() == []  # nothing was fetched or recorded while locked


def test_a_job_runs_once_the_other_process_lets_go(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr("watcher.schedule.LOCK_RETRY", 0.5)
    caplog.set_level("INFO", logger="watcher.schedule")
    settings = local_settings(tmp_path, "* * * * * *")
    with lock_held(settings.storage_path, 2), running(settings):
        wait_for(lambda: stored(Path(settings.storage_path), lambda s: s.checks()), 20, "a recorded check")
    assert "trying again in" in caplog.text
    with Store(settings.storage_path) as store:
        assert store.checks()[0].status == "failed"  # it ran once the lock was free


def test_a_signal_stops_run_and_is_logged_by_run_not_by_the_handler(tmp_path, caplog):
    """The handler only notes the signal: logging there takes locks the main thread may hold."""
    import os

    caplog.set_level("INFO", logger="watcher.schedule")
    previous = signal.getsignal(signal.SIGTERM)
    sender = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    sender.start()
    try:
        run(local_settings(tmp_path, "0 6 * * *"))  # in the main thread, where handlers go
    finally:
        sender.cancel()
    [received] = [r for r in caplog.records if r.getMessage() == "received SIGTERM"]
    assert received.funcName == "run" and received.threadName == "MainThread"
    assert caplog.records[-1].getMessage() == "stopped"
    assert signal.getsignal(signal.SIGTERM) == previous  # handlers restored
