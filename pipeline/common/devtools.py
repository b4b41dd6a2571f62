"""Headless Chromium driven over the Chrome DevTools Protocol: demo screenshots and tests of pages in a real browser.

The transport is ``--remote-debugging-pipe``: Chromium reads commands from file descriptor 3 and writes
replies and events to descriptor 4, each a JSON message ended by a NUL byte (the transport Puppeteer
and Playwright use; see the protocol's documentation at chromedevtools.github.io/devtools-protocol).
No websocket library and no debugging port are needed, so nothing listens on the network. Every
request the page makes is recorded (``Network.requestWillBeSent``), so a test can prove that a page
loads nothing from outside the machine.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class DevTools:
    """Headless Chromium driven over the Chrome DevTools Protocol on a pipe (``--remote-debugging-pipe``).

    Chromium reads commands from fd 3 and writes replies and events to fd 4, each a JSON message ended by a
    NUL byte (the transport Puppeteer and Playwright use). One page target is opened; every network request
    it makes is recorded from ``Network.requestWillBeSent`` events (:attr:`requests`), which fire before
    any name lookup or connection, so a request blocked by ``--host-resolver-rules`` is still recorded.
    """

    def __init__(self, binary: str, profile: Path, window: tuple[int, int] = (1400, 1000),
                 extra_args: tuple[str, ...] = ()) -> None:
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()

        def fds_3_and_4() -> None:  # runs in the child before exec
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--autoplay-policy=no-user-gesture-required",
             f"--window-size={window[0]},{window[1]}",
             f"--user-data-dir={profile}", *extra_args, "about:blank"],
            preexec_fn=fds_3_and_4, pass_fds=(3, 4), close_fds=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._w, self._r = to_chrome_w, from_chrome_r
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Page", "Runtime"):
            self.send(f"{domain}.enable", session=self.session)

    def _read(self) -> None:
        buf = b""
        while chunk := os.read(self._r, 1 << 16):
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                with self._cv:
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self._cv.notify_all()

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        """Send one command and wait for its reply (raises on a protocol error)."""
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._next_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"Chromium did not answer {method} within {timeout} s")
                self._cv.wait(left)
            reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    def open(self, url: str, timeout: float = 30.0) -> None:
        """Navigate the page and wait for its load event."""
        count = len(self.events)
        self.send("Page.navigate", {"url": url}, session=self.session)
        self.wait_for(lambda: any(e.get("method") == "Page.loadEventFired" for e in self.events[count:]), timeout,
                      f"{url} did not load")

    def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True}, session=self.session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"page error in {expression!r}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, ok: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``ok()`` every 0.2 s until it is truthy; fail the test with ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = ok()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"{what} (after {timeout} s)")

    def screenshot(self, path: Path) -> Path:
        """Write a PNG of the page's viewport."""
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"},
                                                    session=self.session)["data"]))
        return path

    @property
    def requests(self) -> list[str]:
        """URLs of every request the page made (documents, scripts, styles, fonts, media, fetches)."""
        return [e["params"]["request"]["url"] for e in list(self.events)
                if e.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        """Close the browser (the process this fixture started, by its pid)."""
        try:
            self.send("Browser.close", timeout=10)
            self.proc.wait(timeout=10)
        except (TimeoutError, RuntimeError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            os.close(self._w)
