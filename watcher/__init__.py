"""watcher: a change monitor for published policy documents.

The pipeline: fetch → extract → normalise → segment → align → classify → store → report → notify.
"""

__version__ = "0.1.0"
