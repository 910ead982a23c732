"""A battery of malformed config files: each one is refused with one ConfigError line naming the
key, by load_settings and by the real `watcher check` in a subprocess, and never with a traceback.

Every file is written to tmp_path as bytes, so encodings, byte-order marks and raw control
characters reach the reader exactly as an editor would leave them.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from dataclasses import fields
from itertools import pairwise
from pathlib import Path

import pytest

from watcher import fetch
from watcher.config import MAX_CONFIG_BYTES, NUMBER_LIMITS, Limit, load_settings
from watcher.errors import ConfigError
from watcher.fetch import Fetcher, FetchError
from watcher.model import EmailSettings, FetchSettings, RetentionSettings

SOURCE = '[[source]]\nname = "a"\nurl = "https://example.org/a.html"\n'
EMAIL = '[email]\nsmtp_host = "smtp.example.org"\nfrom = "w@example.org"\nto = ["a@example.org"]\n'
TITLE_GBK = '[[source]]\nname = "a"\nurl = "https://example.org/a.html"\ntitle = "海曙区规划"\n'


def fetch_with(line: str) -> str:
    return SOURCE + "[fetch]\n" + line + "\n"


def email_with(line: str) -> str:
    return SOURCE + EMAIL + line + "\n"


# (id, file contents, the key the error names, a fragment of the problem)
KEYED = [
    # ---- not finite, out of range
    ("timeout-nan", fetch_with("timeout = nan"), "fetch.timeout", "not nan"),
    ("timeout-inf", fetch_with("timeout = inf"), "fetch.timeout", "not inf"),
    ("timeout-minus-inf", fetch_with("timeout = -inf"), "fetch.timeout", "not -inf"),
    ("timeout-1e308", fetch_with("timeout = 1e308"), "fetch.timeout", "at most 3600"),
    ("timeout-negative", fetch_with("timeout = -5"), "fetch.timeout", "above 0"),
    ("timeout-zero", fetch_with("timeout = 0"), "fetch.timeout", "above 0"),
    ("timeout-over-an-hour", fetch_with("timeout = 3601"), "fetch.timeout", "at most 3600"),
    ("delay-nan", fetch_with("delay = nan"), "fetch.delay", "not nan"),
    ("delay-inf", fetch_with("delay = inf"), "fetch.delay", "not inf"),
    ("delay-1e308", fetch_with("delay = 1e308"), "fetch.delay", "from 0 to 3600"),
    ("delay-negative", fetch_with("delay = -1.5"), "fetch.delay", "from 0 to 3600"),
    ("retries-40", fetch_with("retries = 40"), "fetch.retries", "an integer from 0 to 10, not 40"),
    ("retries-negative", fetch_with("retries = -1"), "fetch.retries", "from 0 to 10"),
    ("retries-huge-integer", fetch_with("retries = 99999999999999999999999"), "fetch.retries", "from 0 to 10"),
    ("workers-zero", fetch_with("workers = 0"), "fetch.workers", "from 1 to 64"),
    ("workers-too-many", fetch_with("workers = 1000"), "fetch.workers", "from 1 to 64"),
    ("per-host-zero", fetch_with("per_host = 0"), "fetch.per_host", "from 1 to 16"),
    ("max-bytes-zero", fetch_with("max_bytes = 0"), "fetch.max_bytes", "from 1 to"),
    ("max-bytes-1e308", fetch_with("max_bytes = 1e308"), "fetch.max_bytes", "an integer"),
    ("max-redirects-negative", fetch_with("max_redirects = -1"), "fetch.max_redirects", "from 0 to 20"),
    ("ratio-one", fetch_with("suspicious_ratio = 1"), "fetch.suspicious_ratio", "below 1"),
    ("ratio-negative", fetch_with("suspicious_ratio = -0.1"), "fetch.suspicious_ratio", "at least 0"),
    ("ratio-nan", fetch_with("suspicious_ratio = nan"), "fetch.suspicious_ratio", "not nan"),
    ("email-timeout-nan", email_with("timeout = nan"), "email.timeout", "not nan"),
    ("email-timeout-inf", email_with("timeout = inf"), "email.timeout", "not inf"),
    ("email-timeout-zero", email_with("timeout = 0"), "email.timeout", "above 0"),
    ("smtp-port-zero", email_with("smtp_port = 0"), "email.smtp_port", "from 1 to 65535"),
    ("smtp-port-too-big", email_with("smtp_port = 65536"), "email.smtp_port", "from 1 to 65535"),
    # ---- the wrong kind of value
    ("retries-float", fetch_with("retries = 1.5"), "fetch.retries", "an integer from 0 to 10, not 1.5"),
    ("workers-whole-float", fetch_with("workers = 2.0"), "fetch.workers", "not 2.0"),
    ("max-redirects-float", fetch_with("max_redirects = 5.0"), "fetch.max_redirects", "not 5.0"),
    ("max-bytes-nan", fetch_with("max_bytes = nan"), "fetch.max_bytes", "not nan"),
    ("smtp-port-float", email_with("smtp_port = 587.0"), "email.smtp_port", "not 587.0"),
    ("retries-bool", fetch_with("retries = true"), "fetch.retries", "not a boolean"),
    ("per-host-bool", fetch_with("per_host = false"), "fetch.per_host", "not a boolean"),
    ("timeout-bool", fetch_with("timeout = true"), "fetch.timeout", "not a boolean"),
    ("smtp-port-bool", email_with("smtp_port = true"), "email.smtp_port", "not a boolean"),
    ("timeout-string", fetch_with('timeout = "30"'), "fetch.timeout", "not a string"),
    ("retries-string", fetch_with('retries = "3"'), "fetch.retries", "not a string"),
    ("smtp-port-string", email_with('smtp_port = "587"'), "email.smtp_port", "not a string"),
    ("timeout-date", fetch_with("timeout = 2024-01-01"), "fetch.timeout", "not date"),
    ("user-agent-number", fetch_with("user_agent = 3"), "fetch.user_agent", "must be a string"),
    # ---- a table (or a list) where a value is expected, and the reverse
    ("timeout-inline-table", fetch_with("timeout = {seconds = 30}"), "fetch.timeout", "not a table"),
    ("timeout-table-header", SOURCE + "[fetch.timeout]\nseconds = 30\n", "fetch.timeout", "not a table"),
    ("delay-list", fetch_with("delay = [1, 2]"), "fetch.delay", "not a list"),
    ("from-table", SOURCE + EMAIL.replace('from = "w@example.org"\n', "") + "[email.from]\na = 1\n",
     "email.from", "not a table"),
    ("fetch-not-a-table", "fetch = 3\n" + SOURCE, "fetch", "must be a table"),
    ("fetch-array-of-tables", SOURCE + "[[fetch]]\ntimeout = 3\n", "fetch", "must be a table"),
    ("email-not-a-table", 'email = "w@example.org"\n' + SOURCE, "email", "must be a table"),
    ("source-not-an-array", 'source = "a"\n', "source", "array of tables"),
    ("unknown-fetch-key", fetch_with("max_retries = 3"), "fetch.max_retries", "unknown key"),
    ("unknown-email-key", email_with('reply_to = "x@example.org"'), "email.reply_to", "unknown key"),
    # ---- encodings: text codecs only, that turn any bytes into text
    ("encoding-rot13", SOURCE + 'encoding = "rot13"\n', "source[1].encoding", "not a text encoding"),
    ("encoding-base64", SOURCE + 'encoding = "base64"\n', "source[1].encoding", "not a text encoding"),
    ("encoding-zlib", SOURCE + 'encoding = "zlib"\n', "source[1].encoding", "not a text encoding"),
    ("encoding-idna", SOURCE + 'encoding = "idna"\n', "source[1].encoding", "cannot decode a web page"),
    ("encoding-undefined", SOURCE + 'encoding = "undefined"\n', "source[1].encoding", "cannot decode a web page"),
    ("encoding-unknown", SOURCE + 'encoding = "no-such-codec"\n', "source[1].encoding", "unknown encoding"),
    ("encoding-nul", SOURCE + 'encoding = "utf-8\\u0000"\n', "source[1].encoding", "U+0000"),
    # ---- control characters and line breaks in values that become headers (and in the rest)
    ("from-crlf", email_with("").replace('"w@example.org"', '"w@example.org\\r\\nBcc: x@example.net"'),
     "email.from", "U+000A, U+000D"),
    ("from-lf-multiline", email_with("").replace('"w@example.org"', '"""w@example.org\nBcc: x@example.net"""'),
     "email.from", "U+000A"),
    ("from-line-separator", email_with("").replace('"w@example.org"', '"w@example.org\\u2028Bcc: x@example.net"'),
     "email.from", "U+2028"),
    ("to-lf", email_with("").replace('["a@example.org"]', '["a@example.org\\nBcc: x@example.net"]'),
     "email.to", "U+000A"),
    ("route-to-cr", email_with('[[email.route]]\ntags = ["t"]\nto = ["r@example.org\\r"]'),
     "email.route[1].to", "U+000D"),
    ("user-agent-crlf", fetch_with('user_agent = "watcher\\r\\nX-Injected: 1"'), "fetch.user_agent", "U+000A, U+000D"),
    ("user-agent-nul", fetch_with('user_agent = "watcher\\u0000"'), "fetch.user_agent", "U+0000"),
    ("user-agent-esc", fetch_with('user_agent = "watcher\\u001b[31m"'), "fetch.user_agent", "U+001B"),
    ("smtp-host-lf", email_with("").replace('"smtp.example.org"', '"smtp.example.org\\nRCPT"'),
     "email.smtp_host", "U+000A"),
    ("username-crlf", email_with('username = "w\\r\\n"'), "email.username", "U+000A, U+000D"),
    ("password-env-nul", email_with('password_env = "PASS\\u0000"'), "email.password_env", "U+0000"),
    ("storage-path-nul", '[storage]\npath = "w\\u0000.db"\n' + SOURCE, "storage.path", "U+0000"),
    ("url-tab", SOURCE.replace("a.html", "a\\t.html"), "source[1].url", "U+0009"),
    ("tag-c1-control", SOURCE + 'tags = ["plans\\u0085"]\n', "source[1].tags", "U+0085"),
    ("title-del", SOURCE + 'title = "plan\\u007f"\n', "source[1].title", "U+007F"),
]

# (id, file bytes, a fragment of the problem); these errors name the file, not a key
WHOLE_FILE = [
    ("gbk-chinese", TITLE_GBK.encode("gbk"), "not UTF-8"),
    ("latin1-comment", b"# caf\xe9\n" + SOURCE.encode(), "byte 0xe9 at byte offset 5 (line 1)"),
    ("utf16", SOURCE.encode("utf-16"), "not UTF-8"),
    ("invalid-toml-unclosed-string", b'[[source]]\nname = "a\n', "not valid TOML"),
    ("invalid-toml-bare-word", b"[fetch]\ntimeout = thirty\n", "not valid TOML"),
    ("invalid-toml-duplicate-key", b"[fetch]\ntimeout = 3\ntimeout = 4\n", "not valid TOML"),
    ("invalid-toml-raw-control", b'[[source]]\nname = "a\x01"\n', "not valid TOML"),
    ("nested-too-deeply", b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    ("bom-then-latin1", b"\xef\xbb\xbf# caf\xe9\n", "byte 0xe9 at byte offset 8 (line 1)"),
]


def write(tmp_path: Path, contents: str | bytes) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_bytes(contents.encode("utf-8") if isinstance(contents, str) else contents)
    return path


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path))
    error = caught.value
    assert error.path == str(path)
    assert "\n" not in str(error) and "\r" not in str(error)
    return error


@pytest.mark.parametrize(("contents", "key", "problem"), [case[1:] for case in KEYED], ids=[case[0] for case in KEYED])
def test_a_malformed_value_is_one_config_error_naming_its_key(tmp_path, contents: str, key: str, problem: str) -> None:
    error = refused(write(tmp_path, contents))
    assert error.key == key
    assert problem in error.problem, error.problem
    assert str(error).startswith(f"{tmp_path / 'watcher.toml'}: {key}: ")


@pytest.mark.parametrize(("contents", "problem"), [case[1:] for case in WHOLE_FILE], ids=[case[0] for case in WHOLE_FILE])
def test_a_malformed_file_is_one_config_error_naming_the_file(tmp_path, contents: bytes, problem: str) -> None:
    error = refused(write(tmp_path, contents))
    assert error.key is None
    assert problem in error.problem, error.problem


def test_a_non_utf8_file_is_refused_at_the_offset_of_its_first_bad_byte(tmp_path) -> None:
    raw = TITLE_GBK.encode("gbk")
    first_bad = len(TITLE_GBK.split("海")[0].encode("utf-8"))  # everything before the title is ASCII
    error = refused(write(tmp_path, raw))
    assert f"byte 0x{raw[first_bad]:02x} at byte offset {first_bad} (line 4)" in error.problem


def test_an_oversized_file_is_refused_before_it_is_parsed(tmp_path) -> None:
    filler = b"# " + b"x" * 78 + b"\n"
    raw = SOURCE.encode() + filler * (MAX_CONFIG_BYTES // len(filler) + 1)
    assert "larger than" in refused(write(tmp_path, raw)).problem


def test_a_utf8_byte_order_mark_is_skipped(tmp_path) -> None:
    """TOML files are UTF-8; Windows editors put a BOM in front of UTF-8. It is read past, not refused."""
    text = SOURCE + 'title = "海曙区规划"\n' + fetch_with("retries = 2").removeprefix(SOURCE)
    plain = load_settings(str(write(tmp_path, text)))
    with_bom = load_settings(str(write(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))))
    assert with_bom == plain
    assert with_bom.sources[0].title == "海曙区规划" and with_bom.fetch.retries == 2


def test_an_empty_file_is_a_config_without_sources(tmp_path) -> None:
    settings = load_settings(str(write(tmp_path, b"")))
    assert settings.sources == () and settings.email is None
    assert settings.fetch == FetchSettings()


BOUNDARIES = [
    ("timeout = 3600", "timeout", 3600.0),
    ("timeout = 0.001", "timeout", 0.001),
    ("timeout = 30", "timeout", 30.0),  # an integer where a number is meant is that number
    ("delay = 0", "delay", 0.0),
    ("delay = 3600.0", "delay", 3600.0),
    ("retries = 0", "retries", 0),
    ("retries = 10", "retries", 10),
    ("max_redirects = 0", "max_redirects", 0),
    ("max_bytes = 1", "max_bytes", 1),
    ("per_host = 16", "per_host", 16),
    ("workers = 64", "workers", 64),
    ("suspicious_ratio = 0", "suspicious_ratio", 0.0),
    ("suspicious_ratio = 0.99", "suspicious_ratio", 0.99),
]


@pytest.mark.parametrize(("line", "name", "value"), BOUNDARIES, ids=[b[0] for b in BOUNDARIES])
def test_values_at_the_limits_are_accepted(tmp_path, line: str, name: str, value: float) -> None:
    fetched = load_settings(str(write(tmp_path, fetch_with(line)))).fetch
    assert getattr(fetched, name) == value and type(getattr(fetched, name)) is type(getattr(FetchSettings(), name))


@pytest.mark.parametrize("port", [1, 25, 65535])
def test_every_tcp_port_is_accepted(tmp_path, port: int) -> None:
    email = load_settings(str(write(tmp_path, email_with(f"smtp_port = {port}")))).email
    assert email is not None and email.smtp_port == port


@pytest.mark.parametrize("encoding", ["gb18030", "GBK", "utf-8", "big5", "utf-16", "latin-1"])
def test_text_encodings_are_accepted(tmp_path, encoding: str) -> None:
    settings = load_settings(str(write(tmp_path, SOURCE + f'encoding = "{encoding}"\n')))
    assert settings.sources[0].encoding == encoding


def test_unicode_that_is_not_a_control_is_accepted(tmp_path) -> None:
    text = email_with("").replace('"w@example.org"', '"监测 <w@example.org>"') + fetch_with(
        'user_agent = "watcher/0.1 (+政策文件)"'
    ).removeprefix(SOURCE)
    settings = load_settings(str(write(tmp_path, text)))
    assert settings.email is not None and settings.email.sender == "监测 <w@example.org>"
    assert settings.fetch.user_agent == "watcher/0.1 (+政策文件)"


def test_every_number_setting_has_a_limit_that_allows_its_default() -> None:
    """A new number field of FetchSettings, RetentionSettings or EmailSettings needs a row in NUMBER_LIMITS."""
    numbers = [
        (f"{section}.{f.name}", getattr(instance, f.name))
        for section, instance in (
            ("fetch", FetchSettings()),
            ("storage", RetentionSettings()),
            ("email", EmailSettings("h", "w@x.org", ("a@x.org",))),
        )
        for f in fields(instance)
        if type(getattr(instance, f.name)) in (int, float)
    ]
    assert {key for key, _ in numbers} == set(NUMBER_LIMITS)
    for key, default in numbers:
        assert NUMBER_LIMITS[key].allows(default) and math.isfinite(default), key
    assert NUMBER_LIMITS["email.smtp_port"].allows(465)  # the default under security = "ssl"


def test_the_readme_example_config_loads_with_the_defaults_it_shows(tmp_path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    settings = load_settings(str(write(tmp_path, example)))
    assert settings.fetch == FetchSettings()  # "[fetch]  # defaults shown"
    assert settings.email is not None and settings.email.timeout == EmailSettings("h", "w@x.org", ("a@x.org",)).timeout


def test_a_limit_never_allows_what_is_not_finite() -> None:
    unbounded = Limit(-math.inf, math.inf)
    assert unbounded.allows(0.0) and unbounded.allows(10**400)
    assert not any(unbounded.allows(value) for value in (math.nan, math.inf, -math.inf))


# ---------------------------------------------------------------- the real CLI

CLI_CASES = [
    ("timeout-nan", fetch_with("timeout = nan"), "fetch.timeout"),
    ("delay-nan", fetch_with("delay = nan"), "fetch.delay"),
    ("retries-40", fetch_with("retries = 40"), "fetch.retries"),
    ("workers-float", fetch_with("workers = 2.5"), "fetch.workers"),
    ("encoding-rot13", SOURCE + 'encoding = "rot13"\n', "source[1].encoding"),
    ("from-crlf", email_with("").replace('"w@example.org"', '"w@example.org\\r\\nBcc: x@example.net"'), "email.from"),
    ("user-agent-crlf", fetch_with('user_agent = "w\\r\\nX: 1"'), "fetch.user_agent"),
    ("storage-path-nul", '[storage]\npath = "w\\u0000.db"\n' + SOURCE, "storage.path"),
    ("gbk-chinese", TITLE_GBK.encode("gbk"), "not UTF-8"),
    ("invalid-toml", b'[[source]]\nname = "a\n', "not valid TOML"),
    ("table-for-a-value", SOURCE + "[fetch.timeout]\nseconds = 30\n", "fetch.timeout"),
]


def run_check(config: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("WATCHER_DEBUG", "WATCHER_CONFIG")}
    return subprocess.run(
        [sys.executable, "-m", "watcher", "--config", str(config), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=config.parent,
        env=env,
    )


@pytest.mark.parametrize(("contents", "named"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_watcher_check_reports_a_malformed_config_in_one_line_with_exit_2(tmp_path, contents, named: str) -> None:
    config = write(tmp_path, contents)
    process = run_check(config)
    assert process.returncode == 2, process.stderr
    assert "Traceback" not in process.stdout + process.stderr
    assert "internal error" not in process.stderr
    lines = process.stderr.splitlines()
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith(f"watcher: {config}: ") and named in lines[0]
    assert not (tmp_path / "watcher.db").exists()  # refused before anything was opened


def test_watcher_check_reads_an_empty_or_bom_prefixed_config(tmp_path) -> None:
    empty = run_check(write(tmp_path, b""))
    assert empty.returncode == 0, empty.stderr
    assert "Traceback" not in empty.stdout + empty.stderr and "没有来源" in empty.stdout  # no [report]: the default, zh
    file_source = f'[[source]]\nname = "local"\nurl = "{(tmp_path / "page.txt").as_uri()}"\n'
    (tmp_path / "page.txt").write_text("第一条 本规划自发布之日起施行。\n", encoding="utf-8")
    bom = run_check(write(tmp_path, b"\xef\xbb\xbf" + file_source.encode("utf-8")))
    assert bom.returncode == 0, bom.stderr
    assert "Traceback" not in bom.stdout + bom.stderr and "local" in bom.stdout


# ---------------------------------------------------------------- retries: each wait is capped too


def test_the_wait_before_a_retry_is_capped(http_server, monkeypatch) -> None:
    """The config caps the number of retries; fetch caps each wait, so a Fetcher built with many
    retries (the library takes FetchSettings from anyone) does not back off for hours. The
    constants are scaled down so the doubling passes the cap within a test's time."""
    monkeypatch.setattr(fetch, "BACKOFF", 0.1)
    monkeypatch.setattr(fetch, "MAX_BACKOFF", 0.2)
    http_server.set("/busy.html", "busy", fail_first=6)
    started = time.monotonic()
    with Fetcher(FetchSettings(timeout=2.0, retries=5, delay=0.0)) as fetcher, pytest.raises(FetchError):
        fetcher.fetch(http_server.url("/busy.html"))
    hits = [hit.at for hit in http_server.hits_of("/busy.html")]
    waits = [later - earlier for earlier, later in pairwise(hits)]
    assert len(waits) == 5
    # Uncapped: 0.1, 0.2, 0.4, 0.8, 1.6 s (3.1 s in all); capped: 0.1, then 0.2 each time.
    assert waits[0] >= 0.1 and all(wait >= 0.2 for wait in waits[1:])
    assert max(waits) < 0.2 + 0.15, waits
    assert time.monotonic() - started < 2.0
