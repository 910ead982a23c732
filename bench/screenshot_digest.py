"""Screenshot an HTML digest as a reader sees it, from a real `watcher check` of a version pair.

    python bench/screenshot_digest.py [--case DIR] [--lang zh|en] [--output digest.png]

The pair (DIR/old.* and DIR/new.*; default tests/data/cases/haishu-new-measure-html) is served on
127.0.0.1, checked twice into a temporary database, and `watcher digest --output digest.html`
renders it; headless Chromium (Playwright, Debian's /usr/bin/chromium) takes the PNG. Look at it.
"""

from __future__ import annotations

import argparse
import http.server
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _serve(folder: Path) -> http.server.ThreadingHTTPServer:
    handler = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _watcher(config: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "watcher", "--config", str(config), *args], check=False, capture_output=True)


def digest_html(case: Path, lang: str, work: Path) -> Path:
    old, new = next(case.glob("old.*")), next(case.glob("new.*"))
    served = work / "served"
    served.mkdir()
    page = served / f"plan{old.suffix}"
    page.write_bytes(old.read_bytes())
    server = _serve(served)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{page.name}"
        config = work / "watcher.toml"
        config.write_text(
            f'[storage]\npath = "watcher.db"\n\n[fetch]\ndelay = 0.0\nretries = 1\n\n[report]\nlanguage = "{lang}"\n'
            f'timezone = "Asia/Shanghai"\n\n[[source]]\nname = "plan"\nurl = "{url}"\ntitle = "{case.name}"\n',
            encoding="utf-8",
        )
        _watcher(config, "check")
        page.write_bytes(new.read_bytes())
        _watcher(config, "check")
        html = work / "digest.html"
        _watcher(config, "digest", "--dry-run", "--output", str(html))
        return html
    finally:
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, default=ROOT / "tests" / "data" / "cases" / "haishu-new-measure-html")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--output", type=Path, default=Path("digest.png"))
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        html = digest_html(options.case, options.lang, Path(folder))
        if not html.exists():
            raise SystemExit("no digest was written (nothing of substance changed in the pair?)")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            view = browser.new_page(viewport={"width": 1100, "height": 900})
            view.goto(html.as_uri())
            view.screenshot(path=str(options.output), full_page=True)
            browser.close()
    print(options.output)


if __name__ == "__main__":
    main()
