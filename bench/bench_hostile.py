"""Peak memory and wall time of a whole `watcher check` over hostile inputs, on loopback.

Run from the project root:  .venv/bin/python bench/bench_hostile.py [--scale full|small]

A page server on 127.0.0.1 serves, as sources of one config: a notice page linking eight bombs
(seven .docx files whose zip headers declare 1 KB for a member that inflates to hundreds of MB, and
a PDF whose small content stream shows a string hundreds of thousands of times), a .docx with a huge
but honest document.xml, HTML nested 16,000 and 100,000 levels deep, a soft error page after a real
version, a page with 3,000 attachment links, attachments at other loopback ports, link-local and
decimal addresses, a robots.txt over the cap, and a server that trickles its headers. Then `watcher
check` runs as a child process, and its whole process tree (the CLI and its workers) is sampled
every 20 ms: the peak of the sum of their memory (Pss), of their RSS and the largest RSS are printed
with the wall time, each source's status, and the baseline of the same check over the plain pages
alone.

`--scale small` shrinks the bombs to test sizes (quick run); `full` uses the fault run's sizes
where building them takes seconds, not minutes (documented beside each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import hostile  # noqa: E402
from conftest import PageServer, case_bytes, toml_value  # noqa: E402
from timing import process_tree, sampled  # noqa: E402

MB = 2**20
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def tree_memory(pid: int) -> tuple[int, int, int]:
    """Over `pid` and its descendants, in bytes: the sum of the proportional set size (Pss: RSS
    with shared pages divided among the processes that share them, so that the forkserver's pages
    are not counted once per worker), the sum of RSS (shared pages counted in every process) and
    the largest RSS of one process."""
    pss = rss = largest = 0
    for current in process_tree(pid):
        try:
            with open(f"/proc/{current}/smaps_rollup", encoding="ascii") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
                    elif line.startswith("Rss:"):
                        one = int(line.split()[1]) * 1024
                        rss, largest = rss + one, max(largest, one)
        except (OSError, ValueError):
            continue
    return pss, rss, largest


def measured_check(config: Path, *sources: str) -> tuple[float, tuple[int, int, int], list[dict]]:
    """Run `watcher check --format json [SOURCE…]`; (seconds, the peaks of tree_memory, results)."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "watcher", "--config", str(config), "check", *sources, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    peak = (0, 0, 0)

    def sample(pid: int) -> None:
        nonlocal peak
        peak = tuple(max(a, b) for a, b in zip(peak, tree_memory(pid), strict=True))  # type: ignore[assignment]

    out = sampled(child, sample)
    seconds = time.monotonic() - started
    results = json.loads(out or b"[]")
    return seconds, peak, results if isinstance(results, list) else results.get("results", [])


def write_config(folder: Path, sources: list[dict], fetch: dict) -> Path:
    lines = ["[storage]", f"path = {toml_value(str(folder / 'watcher.db'))}", "", "[fetch]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in fetch.items()]
    for source in sources:
        lines += ["", "[[source]]"] + [f"{k} = {toml_value(v)}" for k, v in source.items()]
    path = folder / "watcher.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SOFT_404 = "<html><body><div class='main'><h1>提示</h1><p>对不起，您访问的页面不存在或已被删除！</p></div></body></html>"
SECRET = "INTERNAL-SECRET-LINE"


def serve_hostile(server: PageServer, internal: PageServer, trickle: hostile.TrickleServer, scale: str) -> list[dict]:
    """Program the servers; the sources of the hostile config."""
    full = scale == "full"
    page = case_bytes("haishu-noise-page", "old.html")
    internal_port = internal.httpd.server_address[1]
    internal.set("/secret.docx", hostile.docx_with_document_xml(10_000), content_type=DOCX_TYPE)
    internal.set("/secret.pdf", f"{SECRET}：内部地址上的文件，不应被抓取。".encode(), content_type="text/plain")
    bombs = "".join(f'<p><a href="/files/bomb{n}.docx">附件{n}</a></p>' for n in range(7))
    bombs += '<p><a href="/files/bomb7.pdf">附件7</a></p>'
    internal_links = (
        f'<p><a href="http://127.0.0.1:{internal_port}/secret.pdf">a</a></p>'
        '<p><a href="http://169.254.169.254/latest/meta-data.pdf">b</a></p>'
        f'<p><a href="http://2130706433:{internal_port}/secret.docx">c</a></p>'
        f'<p><a href="http://[::ffff:127.0.0.1]:{internal_port}/secret.pdf">d</a></p>'
        '<p><a href="/files/redirect.pdf">e</a></p>'
    )
    server.set("/notice.html", page.replace(b"</body>", (bombs + internal_links).encode() + b"</body>"))
    server.set("/files/redirect.pdf", status=302, headers={"Location": f"http://127.0.0.1:{internal_port}/secret.pdf"})
    # the fault run's file inflated to 5 GiB; 1 GiB (full) builds in seconds and is refused the same way
    lying = hostile.lying_docx((1024 if full else 200) * MB)
    for n in range(7):
        server.set(f"/files/bomb{n}.docx", lying, content_type=DOCX_TYPE)
    # the fault run: 60 MB of text operators in 214 KB; 1.1 million strings shown is 61 MB
    server.set("/files/bomb7.pdf", hostile.pdf_with_operator_stream(1_100_000 if full else 200_000),
               content_type="application/pdf")
    server.set("/big.docx", hostile.docx_with_document_xml((99 if full else 30) * MB), content_type=DOCX_TYPE)
    server.set("/deep16k.html", hostile.deep_html(16_000))
    server.set("/deep100k.html", hostile.deep_html(100_000 if full else 30_000))
    links = "".join(f'<p><a href="/many/{n}.docx">附件{n}</a></p>' for n in range(3000))
    server.set("/links.html", page.replace(b"</body>", links.encode() + b"</body>"))
    small = hostile.docx_with_document_xml(10_000)
    for n in range(3000):
        server.set(f"/many/{n}.docx", small, content_type=DOCX_TYPE)
    server.set("/robots.txt", b"User-agent: *\nDisallow: /private/\n" + b"# padding\n" * 60_000, content_type="text/plain")
    server.set("/soft404.html", page)  # a real version first (warm-up), then the error page
    server.set("/plain.html", page)
    return [
        {"name": "notice", "url": server.url("/notice.html"), "attachments": True},
        {"name": "links", "url": server.url("/links.html"), "attachments": True},
        {"name": "big-docx", "url": server.url("/big.docx")},
        {"name": "deep16k", "url": server.url("/deep16k.html")},
        {"name": "deep100k", "url": server.url("/deep100k.html")},
        {"name": "soft404", "url": server.url("/soft404.html")},
        {"name": "trickle", "url": trickle.url},
        {"name": "plain", "url": server.url("/plain.html")},
    ]


def _mb(peak: tuple[int, int, int]) -> str:
    return " / ".join(f"{value / MB:.0f} MB" for value in peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("full", "small"), default="full")
    args = parser.parse_args()
    fetch = {"timeout": 5.0, "retries": 0, "delay": 0.0}
    deadline = 10 * fetch["timeout"]  # fetch.ATTEMPT_DEADLINE_FACTOR × timeout
    server, internal = PageServer().start(), PageServer().start()
    with hostile.TrickleServer(pause=2.0) as trickle:
        try:
            with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as hostile_dir:
                server.set("/baseline.html", case_bytes("haishu-noise-page", "old.html"))
                baseline = write_config(Path(plain_dir), [{"name": "plain", "url": server.url("/baseline.html")}], fetch)
                base_seconds, base_peak, _ = measured_check(baseline)
                built = time.monotonic()
                sources = serve_hostile(server, internal, trickle, args.scale)
                print(f"hostile inputs built in {time.monotonic() - built:.1f} s ({args.scale} scale)")
                config = write_config(Path(hostile_dir), sources, fetch)
                measured_check(config, "soft404")  # its real version, before the error page
                server.set("/soft404.html", SOFT_404)
                seconds, peak, results = measured_check(config)
                stored = (Path(hostile_dir) / "watcher.db").read_bytes()
        finally:
            server.stop()
            internal.stop()
    print(f"internal server hits: {len(internal.hits)}; secret in the database: {SECRET.encode() in stored}")
    print(f"fetch deadline per attempt {deadline:g} s, document deadline 120 s (the defaults of the config used)")
    print(
        "peaks of the process tree: Pss sum (the memory it takes) / "
        "RSS sum (shared pages counted per process) / largest RSS of one process"
    )
    print(f"baseline check (one plain page): {base_seconds:6.1f} s, {_mb(base_peak)}")
    print(f"hostile check ({len(results)} checks):  {seconds:6.1f} s, {_mb(peak)}")
    print(f"ratio to the baseline: time ×{seconds / base_seconds:.1f}, memory (Pss) ×{peak[0] / base_peak[0]:.1f}")
    shown = [r for r in results if not r["source"].startswith("links/")]
    for result in shown:
        error = (result.get("error") or "")[:110]
        print(f"  {result['source'][:28]:28} {result['status']:10} {result.get('duration', 0):6.1f} s  {error}")
    followed = [r for r in results if r["source"].startswith("links/")]
    print(f"  links/…: {len(followed)} of 3000 attachments followed, {sum(r['status'] == 'new' for r in followed)} new")


if __name__ == "__main__":
    main()
