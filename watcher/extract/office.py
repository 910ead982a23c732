"""Legacy office documents (.doc, .wps, .dot; .xls, .et) converted by LibreOffice into their
Office Open XML form, which the DOCX and spreadsheet readers read.

LibreOffice detects the format itself (no import filter is forced): a Kingsoft .wps is a Word 97
Compound File, which it reads as one. Each conversion runs without a shell, in a private temporary
directory (a fixed input name, never the document's, and a private profile) removed afterwards,
with caps on the input, the output file size (RLIMIT_FSIZE), the time and the address space
(watcher.budget.program_limits), and dies with the reader that started it.
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from watcher.budget import program_limits
from watcher.errors import ExtractError, ProgramMissing
from watcher.extract.docx import extract_docx
from watcher.formats import REGISTRY, compound_streams
from watcher.model import Document

MAX_INPUT_BYTES = 32 * 1024 * 1024  # a larger legacy document is refused before conversion
MAX_OUTPUT_BYTES = 64 * 1024 * 1024  # what a conversion may write (the profile included)
CONVERSION_SECONDS = 60.0
PROGRAM = "soffice"
PACKAGES = {"docx": "libreoffice-writer-nogui", "xlsx": "libreoffice-calc-nogui"}  # Debian, by target
_RESTART = 81  # soffice.bin's exit status after it set up a new profile: run it again
_PR_SET_PDEATHSIG = 1
_PRCTL = ctypes.CDLL(None).prctl  # looked up now: after a fork only the call itself is safe


def office_program() -> Path | None:
    """LibreOffice's soffice.bin (run directly, so that it is the child watcher limits and kills,
    not a launcher script and its splash process), or the `soffice` on PATH; None when missing."""
    found = shutil.which(PROGRAM)
    if found is None:
        return None
    binary = Path(os.path.realpath(found)).with_name("soffice.bin")
    return binary if binary.is_file() else Path(found)


def convert(body: bytes, suffix: str, target: str) -> bytes:
    """`body`, a Compound File ending in `suffix`, converted by LibreOffice to `target` ("docx",
    "xlsx").

    Raises ProgramMissing without LibreOffice, ExtractError when the input is over the cap or not
    a readable Compound File, or the conversion fails, is too large or too slow."""
    if len(body) > MAX_INPUT_BYTES:
        raise ExtractError(
            f"{suffix} refused: {len(body) / 2**20:.1f} MB is over the {MAX_INPUT_BYTES // 2**20} MB a conversion may take"
        )
    if compound_streams(body) is None:  # LibreOffice would import it as plain text: random bytes as a version
        raise ExtractError(f"corrupt {suffix}: not a readable Compound File")
    program = office_program()
    if program is None:
        raise ProgramMissing(
            f"reading {suffix} needs LibreOffice, which is not installed "
            f"(Debian: apt-get install {PACKAGES.get(target, 'libreoffice-nogui')})"
        )
    with tempfile.TemporaryDirectory(prefix="watcher-office-") as work:
        source = Path(work) / f"document{suffix}"
        source.write_bytes(body)
        out = Path(work) / "out"
        out.mkdir()
        command = [
            str(program),
            f"-env:UserInstallation={(Path(work) / 'profile').as_uri()}",
            "--headless", "--invisible", "--norestore", "--nologo", "--nolockcheck", "--nodefault",
            "--convert-to", target, "--outdir", str(out), str(source),
        ]
        deadline = time.monotonic() + CONVERSION_SECONDS
        status = _run(command, work, deadline)
        if status == _RESTART:  # a new profile was set up: now it converts
            status = _run(command, work, deadline)
        result = out / f"document.{target}"
        if status != 0 or not result.is_file():
            how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
            raise ExtractError(f"LibreOffice could not convert the {suffix} document to .{target} ({how})")
        size = result.stat().st_size
        if size > MAX_OUTPUT_BYTES:
            raise ExtractError(f"{suffix} refused: its conversion is larger than {MAX_OUTPUT_BYTES // 2**20} MB")
        return result.read_bytes()


def _run(command: list[str], work: str, deadline: float) -> int:
    """One run of LibreOffice in its own process group (killed whole at the deadline), with
    HOME in the work directory, so that nothing outside it is written."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work, "LANG": "C.UTF-8", "TMPDIR": work}
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd=work, env=env, start_new_session=True, preexec_fn=_limits,
    ) as process:
        try:
            return process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise ExtractError(f"LibreOffice took longer than {CONVERSION_SECONDS:g} s to convert the document") from None


def _limits() -> None:
    """In the child before LibreOffice starts: its address space and output caps, and death with
    its parent (a reader stopped at the document's deadline must not leave it running)."""
    program_limits()
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT_BYTES, MAX_OUTPUT_BYTES))
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def input_suffix(url: str, fmt: str) -> str:
    """The suffix the input file is given: the address's, when it is one of the format's (a hint
    to LibreOffice's detection, which reads the content), else the format's first."""
    extensions = next(known.extensions for known in REGISTRY if known.name == fmt)
    name = urlsplit(url).path.rpartition("/")[2].lower() if "://" in url else url.lower()
    return next((extension for extension in extensions if name.endswith(extension)), extensions[0])


def extract_doc(body: bytes, *, url: str = "", **_options: object) -> Document:
    """A legacy Word or WPS body → Document, through its .docx conversion (headings and tables
    survive it)."""
    document = extract_docx(convert(body, input_suffix(url, "doc"), "docx"))
    return replace(document, format="doc")
