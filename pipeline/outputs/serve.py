"""A small static web server with HTTP range requests, for looking at a publication's map locally.

The map reads Cloud Optimized GeoTIFFs with ``Range: bytes=a-b`` requests (RFC 9110 §14); Python's
``http.server`` ignores ``Range`` and always sends the whole file, which geotiff.js does not expect.
This handler answers a single byte range with ``206 Partial Content`` and ``Content-Range``, an
unsatisfiable one with ``416``, and several ranges (which RFC 9110 lets a server ignore) with the
whole file (``200``). Any production web server (nginx, Apache, Caddy) does the same out of the box.

Binds loopback by default; it serves one folder read-only and nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """``(first, last)`` inclusive for a single-range ``Range`` header on a ``size``-byte file.

    Returns:
        ``None`` when the header should be ignored (not ``bytes=``, several ranges, malformed),
        ``False`` when the range cannot be satisfied (416).
    """
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # suffix range: the last N bytes
        n = int(last)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """``SimpleHTTPRequestHandler`` plus single byte ranges and ``Accept-Ranges: bytes``."""

    protocol_version = "HTTP/1.1"
    _remaining: int | None = None

    def end_headers(self) -> None:
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        self._remaining = None
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if header is None or not os.path.isfile(path):
            return super().send_head()  # type: ignore[return-value]
        fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed by http.server
        size = os.fstat(fh.fileno()).st_size
        span = parse_range(header, size)
        if span is None:
            fh.close()
            return super().send_head()  # type: ignore[return-value]
        if span is False:
            fh.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        assert isinstance(span, tuple)
        first, last = span
        fh.seek(first)
        self._remaining = last - first + 1
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(self._remaining))
        self.send_header("Last-Modified", self.date_time_string(int(os.fstat(fh.fileno()).st_mtime)))
        self.end_headers()
        return fh

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        if self._remaining is None:
            shutil.copyfileobj(source, outputfile)
            return
        left = self._remaining
        while left > 0:
            chunk = source.read(min(64 * 1024, left))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)

    def log_message(self, format: str, *args: object) -> None:
        pass


def make_server(root: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A range-capable static server for ``root`` (not started; ``port=0`` picks a free port)."""
    handler = partial(RangeRequestHandler, directory=str(root))
    return ThreadingHTTPServer((host, port), handler)
