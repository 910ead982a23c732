"""[[notify]] channels: short digests to DingTalk- and WeCom-shaped robots, Apprise services and
webhooks on loopback, with the email digests' sent/unsent bookkeeping in a real store.

Nothing leaves the machine: every URL points at a server on 127.0.0.1 that the test starts.
Apprise's own dingtalk:// posts to the vendor's public host; to test that real plugin, the test
points its class's address at loopback (the one thing changed: the payload is Apprise's own).
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest
from apprise.plugins.dingtalk import NotifyDingTalk
from click.testing import CliRunner
from conftest import PageServer, case_bytes
from sample_changes import DIFF, NEW_MEASURE, store_sample
from smtp_server import smtp_server
from webhook_server import webhook_server

from watcher import channel_url
from watcher.channels import channel_audiences, fit, send_all, send_channels
from watcher.cli import cli
from watcher.config import load_settings
from watcher.errors import ConfigError, DeliveryError
from watcher.model import Block, Change, Channel, Diff, DigestSettings, Document, EmailSettings, ReportSettings, Settings, Source
from watcher.store import Store

CIXI = Source("cixi-plan", "https://www.cixi.gov.cn/art/2021/plan.html", title="慈溪市科技创新“十四五”规划", tags=("plans",))
HAISHU = Source("haishu-plan", "https://www.haishu.gov.cn/art/2022/plan.html", tags=("summaries",))
TOKEN = "5f0c3e8a9b7d41e2a6c4"  # what the environment holds: never in a log, an error or the database
TARGET_LINE = "科技型中小企业数: ≥3700 → **≥4000** 家, 2025 (target changed)"


def settings(*channels: Channel, report_url: str | None = None, email: EmailSettings | None = None) -> Settings:
    return Settings(
        config_path="/etc/watcher.toml",
        storage_path="/unused.db",
        sources=(CIXI, HAISHU),
        email=email,
        report=ReportSettings(language="en", timezone="UTC"),  # the wording asserted below
        digest=DigestSettings(report_url=report_url),
        notify=channels,
    )


@pytest.fixture
def store(tmp_path):
    """A real snapshot database with two versions of the cixi plan and their stored changes."""
    with Store(tmp_path / "watcher.db") as db:
        store_sample(db, CIXI)
        yield db


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("ROBOT_TOKEN", TOKEN)
    return TOKEN


def statuses(store: Store) -> list[tuple[str, tuple[str, ...]]]:
    return [(d.status, d.recipients) for d in store.digests()]


# ---------------------------------------------------------------- robot shapes on loopback


def test_a_dingtalk_robot_gets_the_markdown_digest(store, token):
    with webhook_server() as hook:
        channel = Channel("ding", hook.url("dingtalk+http", "/robot/send") + "?access_token=${ROBOT_TOKEN}")
        outcome = send_channels(store, settings(channel, report_url="https://watcher.example.org/sources/{source}"))
    assert outcome.status == "sent"
    [post] = hook.posts
    assert post.path == "/robot/send" and post.query == {"access_token": [TOKEN]}
    body = post.json
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "[watcher] 1 plan changed: 1 target, 1 new measure, 2 changed clauses"
    text = body["markdown"]["text"]
    assert TARGET_LINE in text  # the target table, a line a target
    assert f"**[{CIXI.title}]({CIXI.url})** ({CIXI.name})" in text  # the source, linked
    assert NEW_MEASURE in text and "**New measures**" in text
    assert "[Full report](https://watcher.example.org/sources/cixi-plan)" in text
    assert "<script>" not in text and "\\<script\\>" not in text  # a hostile clause is counted, not shown
    assert statuses(store) == [("sent", ("notify:ding",))]
    assert store.undelivered_changes() == []


def test_a_wecom_robot_gets_the_markdown_digest(store, token):
    with webhook_server() as hook:
        channel = Channel("wecom", hook.url("wecom+http", "/cgi-bin/webhook/send") + "?key=${ROBOT_TOKEN}")
        send_channels(store, settings(channel))
    [post] = hook.posts
    assert post.query == {"key": [TOKEN]} and post.headers["content-type"].startswith("application/json")
    body = post.json
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"content"}
    content = body["markdown"]["content"]
    assert content.startswith("### \\[watcher\\] 1 plan changed")  # WeCom has no title field
    assert TARGET_LINE in content and CIXI.title in content and CIXI.name in content
    assert len(content.encode("utf-8")) <= 4096


def test_apprises_own_dingtalk_plugin_sends_markdown(store, token, monkeypatch):
    with webhook_server() as hook:
        monkeypatch.setattr(NotifyDingTalk, "notify_url", hook.url("http", "/robot/send") + "?access_token={token}")
        outcome = send_channels(store, settings(Channel("ding", "dingtalk://${ROBOT_TOKEN}")))
    assert outcome.status == "sent"
    [post] = hook.posts
    assert post.query["access_token"] == [TOKEN]
    body = post.json
    assert body["msgtype"] == "markdown"
    assert TARGET_LINE in body["markdown"]["text"] and CIXI.title in body["markdown"]["text"]


def test_a_json_webhook_through_apprise_gets_markdown_or_text_as_configured(store, tmp_path):
    with webhook_server() as hook:
        send_channels(store, settings(Channel("hook", hook.url("json", "/hook"))))
    [post] = hook.posts
    assert post.json["title"].startswith("[watcher] 1 plan changed") and TARGET_LINE in post.json["message"]

    with Store(tmp_path / "text.db") as other, webhook_server() as hook:
        store_sample(other, CIXI)
        send_channels(other, settings(Channel("hook", hook.url("json", "/hook"), format="text")))
    message = hook.posts[0].json["message"]
    assert "  - 科技型中小企业数: ≥3700 → ≥4000 家, 2025 (target changed)" in message
    assert "**" not in message and "](" not in message


# ---------------------------------------------------------------- bookkeeping


@pytest.mark.parametrize("shape", ["wecom+http", "json"])
def test_a_channel_that_refuses_once_gets_the_digest_on_the_next_run_and_only_once(store, token, shape):
    with webhook_server((500, "busy")) as hook:
        channel = Channel("team", hook.url(shape, "/cgi-bin/webhook/send") + "?key=${ROBOT_TOKEN}")
        first = send_channels(store, settings(channel))
        assert first.status == "failed" and first.delivered == ()
        assert len(store.undelivered_changes()) == len(DIFF.changes)  # nothing lost
        retry = send_channels(store, settings(channel))
        again = send_channels(store, settings(channel))
    assert retry.status == "sent" and again.status == "nothing"
    assert len(hook.posts) == 2 and hook.posts[0].body == hook.posts[1].body
    [(failed, error), (sent, _)] = [(d.status, d.error) for d in store.digests()]
    assert (failed, sent) == ("failed", "sent")
    assert "notify team" in error and TOKEN not in error
    assert "500" in error or "Internal Server Error" in error


def test_an_answer_without_errcode_0_is_not_accepted(store, token):
    with webhook_server((200, '{"errcode":310000,"errmsg":"keywords not in content"}'), (200, "<html>")) as hook:
        channel = Channel("ding", hook.url("dingtalk+http", "/robot/send") + "?access_token=${ROBOT_TOKEN}")
        assert send_channels(store, settings(channel)).problems[0].endswith("errcode 310000: keywords not in content")
        assert "no errcode" in send_channels(store, settings(channel)).problems[0]
        assert send_channels(store, settings(channel)).status == "sent"
    assert [d.status for d in store.digests()] == ["failed", "failed", "sent"]


def test_a_missing_variable_is_a_failure_retried_once_it_is_set(store, monkeypatch):
    monkeypatch.delenv("ROBOT_TOKEN", raising=False)
    with webhook_server() as hook:
        channel = Channel("wecom", hook.url("wecom+http", "/send") + "?key=${ROBOT_TOKEN}")
        outcome = send_channels(store, settings(channel))
        assert outcome.problems == ("notify wecom (wecom+http://): the environment variable ROBOT_TOKEN is not set",)
        assert hook.posts == []
        monkeypatch.setenv("ROBOT_TOKEN", TOKEN)
        assert send_channels(store, settings(channel)).status == "sent"
    assert len(hook.posts) == 1


def test_nothing_that_apprise_or_urllib3_logs_holds_the_token(store, token, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)  # Apprise's and urllib3's debug lines name the address posted to
    with webhook_server((500, f"echo {TOKEN}")) as hook:
        monkeypatch.setattr(NotifyDingTalk, "notify_url", hook.url("http", "/robot/send") + "?access_token={token}")
        outcome = send_channels(store, settings(Channel("ding", "dingtalk://${ROBOT_TOKEN}")))
    assert outcome.status == "failed" and hook.posts  # it did post, with the token
    assert hook.posts[0].query["access_token"] == [TOKEN]
    said = [r.getMessage() for r in caplog.records]
    assert any(r.name == "apprise" for r in caplog.records) and any("POST /robot/send" in line for line in said)
    assert all(TOKEN not in line for line in [*said, *outcome.problems, caplog.text])  # redacted, not silenced


def test_channels_get_only_the_sources_routed_to_them(store):
    haishu_change = Change("measure_added", ("二、总体要求",), None, "推进海曙创新大道建设。")
    store.upsert_source(HAISHU)
    old, new = (
        store.add_version(HAISHU.name, Document((Block("paragraph", text),)), sha256=text, raw=text.encode())
        for text in ("旧文。", "新文。")
    )
    store.add_changes(new.id, old.id, Diff(DIFF.old, DIFF.new, (haishu_change,)))
    with webhook_server() as hook:
        plans = Channel("plans", hook.url("json", "/plans"), tags=("plans",))
        everyone = Channel("all", hook.url("json", "/all"))
        outcome = send_channels(store, settings(plans, everyone))
        assert send_channels(store, settings(plans, everyone)).status == "nothing"
    assert [d.message.channel.name for d in outcome.delivered] == ["plans", "all"]
    by_path = {post.path: post.json["message"] for post in hook.posts}
    assert CIXI.title in by_path["/plans"] and HAISHU.name not in by_path["/plans"]
    assert CIXI.title in by_path["/all"] and "推进海曙创新大道建设。" in by_path["/all"]


def test_email_and_channels_of_one_run_each_get_the_changes(store):
    with smtp_server() as mail, webhook_server() as hook:
        email = EmailSettings("127.0.0.1", "watcher@example.org", ("analyst@example.org",), mail.port, "none", timeout=5.0)
        config = settings(Channel("hook", hook.url("json", "/hook")), email=email)
        run = send_all(store, config)
        assert send_all(store, config).channels.status == "nothing"
    assert run.problems == () and len(mail.inbox.messages) == 1 and len(hook.posts) == 1
    assert sorted(statuses(store)) == [("sent", ("analyst@example.org",)), ("sent", ("notify:hook",))]


def test_a_dry_run_sends_and_records_nothing(store):
    with webhook_server() as hook:
        outcome = send_channels(store, settings(Channel("hook", hook.url("json", "/hook"))), dry_run=True)
    assert outcome.status == "dry_run" and TARGET_LINE in outcome.messages[0].markdown
    assert hook.posts == [] and store.digests() == []


def test_a_long_digest_is_cut_at_a_line_to_the_robots_limit():
    text = "\n".join(f"- 第{n}条措施，内容较长的一行文字。" for n in range(400))
    cut = fit(text, 4096)
    assert len(cut.encode("utf-8")) <= 4096 and cut.endswith("\n…")
    assert all(line in text.splitlines() for line in cut.splitlines()[:-1])


# ---------------------------------------------------------------- the config


def config_file(tmp_path, notify: str, digest: str = "") -> str:
    path = tmp_path / "watcher.toml"
    path.write_text(f'[[source]]\nname = "cixi-plan"\nurl = "{CIXI.url}"\n{digest}\n{notify}', encoding="utf-8")
    return str(path)


def test_the_config_reads_channels():
    url = "dingtalk://${DINGTALK_SECRET}@${DINGTALK_TOKEN}/"
    channel_url.check(url)
    assert channel_url.expand(url, "x", {"DINGTALK_SECRET": "s", "DINGTALK_TOKEN": "t"}).url == "dingtalk://s@t/"


@pytest.mark.parametrize(
    ("notify", "problem"),
    [
        ('url = "dingtalk://5f0c3e8a9b7d"', "holds the dingtalk token"),
        ('url = "wecombot://5f0c3e8a9b7d"', "holds the wecombot token"),
        ('url = "mailto://ops:hunter2@mail.example.org"', "holds a password"),
        ('url = "wecom+https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=5f0c3e8a"', "holds the value of ?key="),
        ('url = "json://127.0.0.1/$HOME"', "a $ must open a reference"),
        ('url = "slack+https://example.org/"', "unknown scheme 'slack+https'"),
        ('url = "127.0.0.1:8080"', "must start with a service's scheme"),
        ('url = "json://127.0.0.1/"\nformat = "html"', "must be one of auto, markdown, text"),
        ('url = "json://127.0.0.1/"\nwebhook = "x"', "unknown key"),
    ],
)
def test_the_config_refuses_secrets_in_urls_and_bad_channels(tmp_path, notify, problem):
    with pytest.raises(ConfigError, match=r"notify\[1\]\.[a-z]+: .*" + re.escape(problem)) as caught:
        load_settings(config_file(tmp_path, f'[[notify]]\nname = "team"\n{notify}\n'))
    for secret in ("5f0c3e8a", "hunter2"):
        assert secret not in str(caught.value)


def test_the_config_refuses_duplicate_names_and_checks_the_report_url(tmp_path):
    twice = '[[notify]]\nname = "a"\nurl = "json://127.0.0.1/"\n' * 2
    with pytest.raises(ConfigError, match=r"notify\[2\]\.name: duplicate channel name 'a'"):
        load_settings(config_file(tmp_path, twice))
    with pytest.raises(ConfigError, match=r"notify\[1\]\.name: must be letters"):
        load_settings(config_file(tmp_path, '[[notify]]\nname = "a@b"\nurl = "json://127.0.0.1/"\n'))
    with pytest.raises(ConfigError, match=r"digest\.report_url: .*must start with http"):
        load_settings(config_file(tmp_path, "", '[digest]\nreport_url = "ftp://example.org/{source}"'))
    good = load_settings(
        config_file(
            tmp_path,
            '[[notify]]\nname = "plans-ding"\nurl = "dingtalk://${DINGTALK_TOKEN}"\ntags = ["plans"]\n',
            '[digest]\nreport_url = "https://watcher.example.org/{source}"',
        )
    )
    assert good.notify == (Channel("plans-ding", "dingtalk://${DINGTALK_TOKEN}", ("plans",)),)
    assert good.digest.report_url == "https://watcher.example.org/{source}"


def test_delivery_errors_name_the_channel_not_the_url(monkeypatch):
    monkeypatch.setenv("ROBOT_TOKEN", TOKEN)
    with pytest.raises(DeliveryError, match=r"^x: the environment variable OTHER is not set$"):
        channel_url.expand("wecom+https://h/?key=${OTHER}", "x")


# ---------------------------------------------------------------- real changes, real check, the CLI


def test_a_real_check_reaches_a_robot_with_its_target_and_removed_measure(http_server: PageServer, write_config, token):
    """Two real plans on a loopback server change (a target raised in the text and in 表1; a
    measure dropped), `watcher check` stores the changes, `watcher digest --send` posts them."""
    http_server.set("/haishu.txt", case_bytes("haishu-target-prose-and-table", "old.txt"), content_type="text/plain; charset=utf-8")
    http_server.set("/cixi.txt", case_bytes("cixi-measure-removed", "old.txt"), content_type="text/plain; charset=utf-8")
    config = write_config(
        [
            {"name": "haishu", "url": http_server.url("/haishu.txt"), "tags": ["plans"]},
            {"name": "cixi", "url": http_server.url("/cixi.txt"), "tags": ["summaries"]},
        ]
    )
    with webhook_server() as hook:
        with open(config, "a", encoding="utf-8") as f:
            f.write(f'\n[[notify]]\nname = "wecom"\nurl = "{hook.url("wecom+http", "/send")}?key=${{ROBOT_TOKEN}}"\n')
        runner = CliRunner()
        assert runner.invoke(cli, ["--config", str(config), "check"]).exit_code == 0
        first = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
        assert first.exit_code == 0 and hook.posts == [] and "nothing of substance" in first.stderr  # first versions

        http_server.set("/haishu.txt", case_bytes("haishu-target-prose-and-table", "new.txt"), content_type="text/plain; charset=utf-8")
        http_server.set("/cixi.txt", case_bytes("cixi-measure-removed", "new.txt"), content_type="text/plain; charset=utf-8")
        checked = runner.invoke(cli, ["--config", str(config), "check"])
        assert checked.exit_code == 0, checked.output
        preview = runner.invoke(cli, ["--config", str(config), "digest"])
        assert preview.exit_code == 0 and preview.stdout.startswith("Notify: wecom\nTitle: [watcher] 2 plans changed")
        sent = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
        again = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
    assert sent.exit_code == 0, sent.output
    assert "sent digest 1 to notify wecom: [watcher] 2 plans changed" in sent.stderr
    assert again.exit_code == 0 and "nothing of substance" in again.stderr
    [post] = hook.posts
    content = post.json["markdown"]["content"]
    assert post.json["msgtype"] == "markdown"
    assert f"**[haishu]({http_server.url('/haishu.txt')})**" in content and "**[cixi](" in content
    assert "高新技术企业" in content and "500 → **600**" in content  # the target table
    assert "**Removed measures**" in content and "小微企业园科创服务能力" in content
    with Store(load_settings(str(config)).storage_path) as store:
        assert [(d.status, d.recipients) for d in store.digests()] == [("sent", ("notify:wecom",))]
        assert {a.recipients for _, a in channel_audiences(store, load_settings(str(config)))} == {("notify:wecom",)}
        assert store.undelivered_changes() == []


def test_cli_a_refused_channel_exits_2_and_is_sent_by_the_next_run(store, tmp_path, token):
    with webhook_server((500, "busy")) as hook:
        url = hook.url("wecom+http", "/send") + "?key=${ROBOT_TOKEN}"
        config = tmp_path / "watcher.toml"
        config.write_text(
            f'[storage]\npath = "watcher.db"\n\n[[source]]\nname = "{CIXI.name}"\nurl = "{CIXI.url}"\n'
            f'\n[[notify]]\nname = "wecom"\nurl = "{url}"\n',
            encoding="utf-8",
        )
        runner = CliRunner()
        failed = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
        retried = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
        again = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
    assert failed.exit_code == 2 and "notify wecom (wecom+http://): not accepted: HTTP 500" in failed.stderr
    assert TOKEN not in failed.output
    assert retried.exit_code == 0 and "sent digest 2 to notify wecom" in retried.stderr
    assert again.exit_code == 0 and "nothing of substance" in again.stderr
    assert len(hook.posts) == 2


def test_watcher_runs_digest_job_sends_to_the_channels(store, token, caplog):
    import threading

    from watcher.schedule import Jobs

    with webhook_server((500, "busy")) as hook:
        channel = Channel("wecom", hook.url("wecom+http", "/send") + "?key=${ROBOT_TOKEN}")
        jobs = Jobs(replace(settings(channel), storage_path=store.path), threading.Event())
        jobs.digest()  # refused: logged, kept for the next run
        jobs.digest()
        jobs.digest()
    assert len(hook.posts) == 2 and [d.status for d in store.digests()] == ["failed", "sent"]
    assert "not accepted: HTTP 500" in caplog.text and TOKEN not in caplog.text
