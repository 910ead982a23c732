"""External programs some tests need (LibreOffice, Chromium, Tesseract, openssl).

A test asks for a program with `need("soffice")`. Where the program is missing the test is
skipped with the reason, except when WATCHER_REQUIRE_TOOLS=1 (set by .ci/run, which installs
them all): there a missing program is a failure, so nothing is skipped silently in CI.
"""

from __future__ import annotations

import os
import shutil

import pytest

# What installs each program on Debian: the skip message tells a developer what to do.
DEBIAN_PACKAGES: dict[str, str] = {
    "openssl": "openssl",
    "soffice": "libreoffice-writer-nogui libreoffice-calc-nogui",
    "chromium": "chromium",
    "tesseract": "tesseract-ocr tesseract-ocr-chi-sim",
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
}


def need(program: str) -> str:
    """The path of `program`; skips the test (fails it under WATCHER_REQUIRE_TOOLS=1) when missing."""
    path = shutil.which(program)
    if path:
        return path
    package = DEBIAN_PACKAGES.get(program, program)
    message = f"{program} is not installed (Debian: apt-get install {package})"
    if os.environ.get("WATCHER_REQUIRE_TOOLS") == "1":
        pytest.fail(message + "; WATCHER_REQUIRE_TOOLS=1 requires it", pytrace=False)
    pytest.skip(message)
