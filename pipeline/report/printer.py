"""A Chromium kept running for report.pdf: started while the report notebook runs, so that the print at the end of
the chain does not wait for the browser to start (about 1 s of the 3–5 s the print takes; docs/performance.md).

It speaks the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages ended by a NUL byte, on two pipes:
no network port, no dependency) and prints with what Chromium's own ``--print-to-pdf`` uses: background graphics,
the page size of the report's ``@page`` rule, no header or footer. The PDF is the one export.print_pdf writes, byte
for byte but for its creation date (tests/test_printer.py). Only where a child process can be handed pipes (not
Windows); whenever it fails, the caller prints the old way (export.print_pdf) and reports any error from there.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Page.printToPDF's parameters that make the PDF --print-to-pdf --no-pdf-header-footer makes.
PRINT_PARAMETERS = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False}

# Chromium reads the protocol's commands on fd 3 and writes its replies on fd 4. This starts it with the two pipe ends
# (argv[1], argv[2]) moved there, without a shell (dash takes no descriptor above 9) and without subprocess's
# preexec_fn (unsafe in a process with threads, as the runner is).
MOVE_TO_3_AND_4 = (
    "import os, sys\n"
    "commands, replies = int(sys.argv[1]), int(sys.argv[2])\n"
    "os.dup2(commands, 3)\n"
    "os.dup2(replies, 4)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


class PrinterError(Exception):
    """The warm browser could not print (English, for the log; the caller falls back to the command line)."""


class WarmPrinter:
    """A headless Chromium started now, in a throwaway profile; print_pdf() prints a page with it, close() ends it."""

    def __init__(self, chromium: str, flags: tuple[str, ...]):
        self._profile = tempfile.mkdtemp(prefix="report-chromium-")
        self._buffer = b""
        self._last_id = 0
        commands, to_browser = os.pipe()
        from_browser, replies = os.pipe()
        commands, replies = _above_4(commands), _above_4(replies)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", MOVE_TO_3_AND_4, str(commands), str(replies),
                 chromium, *flags, f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(commands, replies))
        except BaseException:
            for fd in (commands, to_browser, from_browser, replies):
                os.close(fd)
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        os.close(commands)
        os.close(replies)
        self._to_browser, self._from_browser = to_browser, from_browser

    @classmethod
    def start(cls, chromium: str | None, flags: tuple[str, ...]) -> WarmPrinter | None:
        """A warm printer, or None where there is no browser or it cannot be started this way."""
        if not chromium or os.name != "posix":
            return None
        try:
            return cls(chromium, flags)
        except (OSError, subprocess.SubprocessError):
            return None

    def print_pdf(self, html_path: Path, timeout: float) -> bytes:
        """The PDF of the page at html_path; PrinterError when the browser fails or is slower than timeout."""
        deadline = time.monotonic() + timeout
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"}, deadline)["targetId"]
            session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True}, deadline)["sessionId"]
            self._call("Page.enable", {}, deadline, session)
            self._call("Page.navigate", {"url": Path(html_path).resolve().as_uri()}, deadline, session)
            self._receive(lambda message: message.get("method") == "Page.loadEventFired"
                          and message.get("sessionId") == session, deadline)
            data = self._call("Page.printToPDF", PRINT_PARAMETERS, deadline, session)["data"]
            self._call("Target.closeTarget", {"targetId": target}, deadline)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PrinterError(f"{type(exc).__name__}: {exc}") from None
        return base64.b64decode(data)

    def close(self) -> None:
        """End the browser (asked first, then killed) and remove its profile."""
        with contextlib.suppress(OSError, ValueError, PrinterError):
            self._send("Browser.close", {})
        for fd in (self._to_browser, self._from_browser):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _send(self, method: str, params: dict, session: str | None = None) -> int:
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        return self._last_id

    def _call(self, method: str, params: dict, deadline: float, session: str | None = None) -> dict:
        sent = self._send(method, params, session)
        reply = self._receive(lambda message: message.get("id") == sent, deadline)
        if "error" in reply:
            raise PrinterError(f"{method}: {reply['error']}")
        return reply["result"]

    def _receive(self, wanted, deadline: float) -> dict:
        """Read messages until one is wanted (events and other replies are passed over)."""
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                    raise PrinterError("timed out")
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise PrinterError("the browser closed its pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if wanted(message):
                return message


def _above_4(fd: int) -> int:
    """The same pipe end on a descriptor numbered 10 or more (moving one to 3 or 4 then clobbers neither)."""
    import fcntl

    if fd > 4:
        return fd
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved
