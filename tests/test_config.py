"""watcher.config: the shipped config, paths, and one clear message per kind of mistake."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from watcher.cli import cli
from watcher.config import load_settings, parse_cron
from watcher.errors import ConfigError
from watcher.model import FetchSettings, RetentionSettings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "watcher.toml"

GOOD_SOURCE = '[[source]]\nname = "a"\nurl = "https://example.org/a.html"\n'


def test_shipped_config_loads_with_the_haishu_plan() -> None:
    settings = load_settings(str(SHIPPED))
    haishu = {s.name: s for s in settings.sources}["haishu-sti-plan"]
    assert haishu.url == "https://www.haishu.gov.cn/art/2022/1/19/art_1229564959_1732641.html"
    assert haishu.selector == "#zoom"
    assert "ningbo" in haishu.tags and haishu.robots is True
    assert len(settings.sources) >= 5
    assert settings.storage_path == str(ROOT / "snapshots" / "watcher.db")
    assert settings.config_path == str(SHIPPED)


def test_retention_is_read_from_storage(tmp_path) -> None:
    path = tmp_path / "w.toml"
    path.write_text('[storage]\nkeep_checks_days = 90\nkeep_versions = 5\n' + GOOD_SOURCE, encoding="utf-8")
    assert load_settings(path).retention == RetentionSettings(keep_checks_days=90, keep_versions=5)


def test_storage_path_is_relative_to_the_config_folder_not_the_cwd(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "w.toml").write_text('[storage]\npath = "../data/w.db"\n' + GOOD_SOURCE, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(str(folder / "w.toml"))
    assert settings.storage_path == str(tmp_path / "data" / "w.db")


def test_default_path_and_env_override(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WATCHER_CONFIG", raising=False)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "watcher.toml").write_text(GOOD_SOURCE, encoding="utf-8")
    assert [s.name for s in load_settings().sources] == ["a"]
    other = tmp_path / "other.toml"
    other.write_text(GOOD_SOURCE.replace('"a"', '"b"'), encoding="utf-8")
    monkeypatch.setenv("WATCHER_CONFIG", str(other))
    assert [s.name for s in load_settings().sources] == ["b"]


def test_all_keys_are_read(tmp_path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(
        """
[storage]
path = "/var/lib/watcher/w.db"

[fetch]
timeout = 5
retries = 0
max_bytes = 1000000
per_host = 1
delay = 2.5
workers = 3
user_agent = "watcher-test/1"
suspicious_ratio = 0.5

[[source]]
name = "p"
url = "http://example.org/p.html"
selector = "div.content > #zoom"
encoding = "gb18030"
attachments = true
schedule = "30 6 * * 1-5"
tags = ["ningbo", "plans"]
robots = false
title = "规划"

[email]
smtp_host = "smtp.example.org"
security = "ssl"
username = "w"
password_env = "W_PASS"
from = "Watcher <w@example.org>"
to = ["a@example.org"]
[[email.route]]
tags = ["plans"]
to = ["plans@example.org"]

[digest]
schedule = "0 8 * * *"
send_empty = true
""",
        encoding="utf-8",
    )
    settings = load_settings(str(path))
    source = settings.sources[0]
    assert (source.selector, source.encoding, source.attachments, source.robots) == (
        "div.content > #zoom", "gb18030", True, False,
    )
    assert source.tags == ("ningbo", "plans") and source.title == "规划"
    assert settings.fetch == FetchSettings(
        timeout=5.0, retries=0, max_bytes=1000000, per_host=1, delay=2.5, workers=3,
        user_agent="watcher-test/1", suspicious_ratio=0.5,
    )
    assert settings.storage_path == "/var/lib/watcher/w.db"
    email = settings.email
    assert email is not None
    assert (email.smtp_port, email.security, email.sender) == (465, "ssl", "Watcher <w@example.org>")
    assert email.routes[0].tags == ("plans",) and email.routes[0].to == ("plans@example.org",)
    assert settings.digest.send_empty is True


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[storage]\npath = "w.db"\nsources = 1\n', "storage.sources", "unknown key"),
        ('[storage]\nkeep_versions = -1\n' + GOOD_SOURCE, "storage.keep_versions", "must be an integer from 0 to 1000000"),
        ('[storage]\nkeep_checks_days = 1.5\n' + GOOD_SOURCE, "storage.keep_checks_days", "must be an integer"),
        ("[[source]]\nname = 'a'\n", "source[1].url", "is required"),
        (GOOD_SOURCE + '[[source]]\nname = "b"\nurl = "https://x.org/"\nselecter = "#zoom"\n',
         "source[2].selecter", "unknown key"),
        (GOOD_SOURCE + GOOD_SOURCE, "source[2].name", "duplicate source name 'a' (also source[1])"),
        ('[[source]]\nname = "a"\nurl = "ftp://x.org/a"\n', "source[1].url", "must start with http://"),
        ('[[source]]\nname = "a"\nurl = "http://[abc"\n', "source[1].url", "not a valid URL"),
        ('[[source]]\nname = "a"\nurl = "http://x.org:port/a"\n', "source[1].url", "not a valid URL"),
        ('[[source]]\nname = "a"\nurl = "https:///a"\n', "source[1].url", "has no host"),
        (GOOD_SOURCE + 'schedule = "0 25 * * *"\n', "source[1].schedule", "invalid cron expression"),
        (GOOD_SOURCE + 'schedule = "daily"\n', "source[1].schedule", "invalid cron expression"),
        (GOOD_SOURCE + 'attachments = "yes"\n', "source[1].attachments", "must be true or false"),
        (GOOD_SOURCE + "tags = 3\n", "source[1].tags", "must be a list"),
        (GOOD_SOURCE + 'selector = "div["\n', "source[1].selector", "invalid CSS selector"),
        (GOOD_SOURCE + 'encoding = "gb-nonsense"\n', "source[1].encoding", "unknown encoding"),
        ('[[source]]\nname = "a@2"\nurl = "https://x.org/"\n', "source[1].name", "must not contain '@'"),
        ('[[source]]\nname = "42"\nurl = "https://x.org/"\n', "source[1].name", "must not be a number"),
        (GOOD_SOURCE + "[fetch]\nworkers = 0\n", "fetch.workers", "must be an integer from 1 to 64, not 0"),
        (GOOD_SOURCE + "[fetch]\ntimeout = true\n", "fetch.timeout", "not a boolean"),
        (GOOD_SOURCE + "[fetch]\nwokers = 2\n", "fetch.wokers", "unknown key"),
        (GOOD_SOURCE + '[email]\nsmtp_host = "h"\nfrom = "w@x.org"\nto = ["a@x.org"]\nsecurity = "tls"\n',
         "email.security", "must be one of starttls, ssl, none"),
        (GOOD_SOURCE + '[email]\nsmtp_host = "h"\nfrom = "w@x.org"\nto = ["a@x.org"]\npassword = "s3cret"\n',
         "email.password", "environment variable"),
        (GOOD_SOURCE + '[email]\nsmtp_host = "h"\nfrom = "nobody"\nto = ["a@x.org"]\n',
         "email.from", "not an email address"),
        (GOOD_SOURCE + '[digest]\nschedule = "0 8 * *"\n', "digest.schedule", "Wrong number of fields"),
        (GOOD_SOURCE + '[email]\nsmtp_host = "h"\nfrom = "w@x.org"\nto = ["a@x.org"]\nsecurity = "none"\nusername = "w"\n',
         "email.security", "allow_plaintext_login = true"),
        (GOOD_SOURCE + '[email]\nsmtp_host = "h"\nfrom = "w@x.org"\nto = ["a@x.org"]\nallow_plaintext_login = 1\n',
         "email.allow_plaintext_login", "must be true or false"),
        (GOOD_SOURCE + "[sources]\n", "sources", "unknown key"),
    ],
)
def test_invalid_config_names_file_key_and_problem(tmp_path, text: str, key: str, problem: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path))
    error = caught.value
    assert (error.path, error.key) == (str(path), key)
    assert problem in error.problem
    assert str(error).startswith(f"{path}: {key}: ")


def test_the_password_itself_is_never_echoed(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        GOOD_SOURCE + '[email]\nsmtp_host = "h"\nfrom = "w@x.org"\nto = ["a@x.org"]\npassword = "s3cret"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path))
    assert "s3cret" not in str(caught.value)


def test_missing_file_and_toml_syntax(tmp_path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(str(tmp_path / "nope.toml"))
    path = tmp_path / "syntax.toml"
    path.write_text('[[source]]\nname = "a\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 2"):
        load_settings(str(path))


def test_cron_accepts_crontab_and_seconds_first() -> None:
    start = datetime(2026, 1, 5, 5, 0, 0, tzinfo=UTC)
    daily = parse_cron("0 6 * * *").get_next_fire_time(None, start)
    assert (daily.hour, daily.minute) == (6, 0)
    every_two = parse_cron("*/2 * * * * *")
    first = every_two.get_next_fire_time(None, start)
    second = every_two.get_next_fire_time(first, first)
    assert (second - first).total_seconds() == 2


@pytest.mark.parametrize(("expr", "weekday"), [("0 6 * * 1", "Mon"), ("0 6 * * 0", "Sun"), ("0 6 * * 7", "Sun"), ("0 6 * * 5", "Fri")])
def test_cron_weekdays_count_from_sunday_as_in_crontab(expr: str, weekday: str) -> None:
    start = datetime(2026, 11, 22, 7, 0, 0, tzinfo=UTC)  # a Sunday, after 06:00
    trigger = parse_cron(expr)
    fire = trigger.get_next_fire_time(None, start)
    assert fire.astimezone(UTC).strftime("%a") == weekday


def test_cli_reports_a_config_error_in_one_line_with_exit_2(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD_SOURCE + GOOD_SOURCE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "sources"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and "source[2].name" in lines[0] and "duplicate" in lines[0]


def test_cli_reads_watcher_config_from_the_environment(tmp_path) -> None:
    (tmp_path / "config").mkdir()
    shutil.copy(SHIPPED, tmp_path / "config" / "w.toml")  # its database would be tmp_path/snapshots
    env = {"WATCHER_CONFIG": str(tmp_path / "config" / "w.toml")}
    result = CliRunner().invoke(cli, ["sources", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert "haishu-sti-plan" in result.stdout


def fire_days(expr: str, days: int = 14) -> set[str]:
    """The weekdays on which the trigger fires in the next `days` days."""
    trigger = parse_cron(expr)
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 22, 0, 0, tzinfo=trigger.timezone))  # a Sunday
    seen = set()
    end = fire + timedelta(days=days)
    while fire < end:
        seen.add(fire.strftime("%a"))
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return seen


EVERY_DAY = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}


@pytest.mark.parametrize(
    ("weekdays", "expected"),
    [
        ("0-6", EVERY_DAY),
        ("0-7", EVERY_DAY),
        ("*", EVERY_DAY),
        ("0-4", {"Sun", "Mon", "Tue", "Wed", "Thu"}),
        ("1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
        ("1-5/2", {"Mon", "Wed", "Fri"}),
        ("7", {"Sun"}),
        ("0,6", {"Sun", "Sat"}),
        ("mon-fri", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("Sat,sun", {"Sat", "Sun"}),
    ],
)
def test_cron_weekday_ranges_lists_and_steps_as_in_crontab(weekdays: str, expected: set[str]) -> None:
    assert fire_days(f"0 6 * * {weekdays}") == expected


@pytest.mark.parametrize(
    ("weekdays", "problem"),
    [
        ("8", "weekday 8 is out of range"),
        ("0-8", "weekday 8 is out of range"),
        ("5-1", "runs backwards"),
        ("1/2", "a step needs a range"),
        ("*/0", "a step of 0"),
        ("monday", "cannot read"),
    ],
)
def test_cron_weekdays_crontab_refuses_are_config_errors(tmp_path, weekdays: str, problem: str) -> None:
    path = tmp_path / "w.toml"
    path.write_text(GOOD_SOURCE + f'schedule = "0 6 * * {weekdays}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path))
    assert caught.value.key == "source[1].schedule" and problem in caught.value.problem


def test_cron_day_of_month_with_a_weekday_is_refused() -> None:
    # crontab runs "0 6 1 * 1" on the 1st and on every Monday; APScheduler would need both at once.
    with pytest.raises(ValueError, match="crontab runs on either"):
        parse_cron("0 6 1 * 1")
    assert fire_days("0 6 */2 * *", 4) and fire_days("0 6 * * 1") == {"Mon"}


def test_a_plaintext_login_only_when_the_config_says_so(tmp_path) -> None:
    email = '[email]\nsmtp_host = "127.0.0.1"\nfrom = "w@x.org"\nto = ["a@x.org"]\nsecurity = "none"\n'
    path = tmp_path / "w.toml"
    path.write_text(GOOD_SOURCE + email, encoding="utf-8")
    assert load_settings(str(path)).email.username is None  # no login: nothing to protect
    path.write_text(GOOD_SOURCE + email + 'username = "w"\npassword_env = "W"\nallow_plaintext_login = true\n', encoding="utf-8")
    settings = load_settings(str(path))
    assert (settings.email.security, settings.email.username) == ("none", "w")


@pytest.mark.parametrize(
    "url", ["https://watcher:s3cret@example.gov.cn/plan.html", "http://s3cret@example.gov.cn/", "https://:s3cret@example.gov.cn/"]
)
def test_urls_with_credentials_are_refused_without_echoing_them(tmp_path, url) -> None:
    path = tmp_path / "w.toml"
    path.write_text(f'[[source]]\nname = "a"\nurl = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path))
    assert caught.value.key == "source[1].url" and "user name or password" in caught.value.problem
    assert "s3cret" not in str(caught.value)
