"""Make the gettext catalogs of the reports (watcher/locale) with Babel.

    python bench/catalogs.py extract   # watcher/locale/watcher.pot from the code and templates
    python bench/catalogs.py update    # merge the .pot into the zh and en .po files
    python bench/catalogs.py compile   # the .mo files that are committed (tests check they match)

Translate the new msgids in watcher/locale/zh/LC_MESSAGES/watcher.po between update and compile.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "watcher" / "locale"
POT = LOCALE / "watcher.pot"
# N_ marks a msgid, NP_ a singular/plural pair (watcher.language).
KEYWORDS = ("-k", "N_", "-k", "NP_:1,2")


def extract_command(output: Path) -> list[str]:
    """The pybabel command that extracts every message into `output`; the catalog test runs it too."""
    return [
        sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"), *KEYWORDS,
        "--no-location", "--sort-output", "--project", "watcher", "-o", str(output), str(ROOT / "watcher"),
    ]


def main(step: str) -> None:
    if step == "extract":
        subprocess.run(extract_command(POT), check=True, cwd=ROOT)
    elif step == "update":
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "update", "-i", str(POT), "-d", str(LOCALE),
                        "-D", "watcher", "--no-fuzzy-matching"], check=True)
    elif step == "compile":
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d", str(LOCALE), "-D", "watcher",
                        "--statistics"], check=True)
    else:
        raise SystemExit(f"unknown step {step!r}: extract, update or compile")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
