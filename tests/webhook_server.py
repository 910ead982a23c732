"""A real webhook server on loopback for the channel tests: records every POST and answers each
with the next programmed answer (then a robot API's {"errcode": 0}).

Not a test module.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCEPTED = (200, '{"errcode":0,"errmsg":"ok"}')


@dataclass
class Post:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Hook:
    answers: list[tuple[int, str]] = field(default_factory=list)  # consumed in order
    posts: list[Post] = field(default_factory=list)
    port: int = 0

    def url(self, scheme: str, path: str) -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"


@contextmanager
def webhook_server(*answers: tuple[int, str]) -> Iterator[Hook]:
    hook = Hook(list(answers))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            with lock:
                hook.posts.append(Post(parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body))
                status, text = hook.answers.pop(0) if hook.answers else ACCEPTED
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
