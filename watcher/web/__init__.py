"""`watcher serve`: a local, read-only web view of the snapshot database.

Pages: the sources with their last check (/), a source's versions on a timeline (/source), the
diff between any two versions drawn by the HTML report's own macros (/diff), a source's target
ledger over its versions (/ledger), search in the latest texts (/search), each version's raw
file as a download (/raw), and the Atom feed of `watcher feed` (/feed, /feed?name=SOURCE).

The stack is the standard library's wsgiref (a threaded WSGIServer) and the Jinja2 the reports
already use: no new dependency, and nothing of a framework that a handful of GET routes would
need. watcher.web.app is the application, watcher.web.server binds and runs it.
"""

from watcher.web.server import DEFAULT_HOST, DEFAULT_PORT, serve

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "serve"]
