"""The leak scan run on every publication before it is swapped into place.

Every personal value is looked for, whatever its length, as a *whole token*: case-insensitive, not
preceded or followed by an ASCII letter, digit or ``_``. So a field ``F1`` is found in ``"F1,"`` or
``id=F1`` but not inside ``F10`` or ``F1a``; a grower ``Abe`` is found in ``"abe"`` but not in
``Aberdeen``. Japanese text has no spaces, so a Japanese value is matched wherever it occurs.

How each file is read:

* text files (:data:`TEXT_SUFFIXES`): decoded as UTF-8; the value is looked for as written, as JSON
  ``\\uXXXX`` escapes, HTML-escaped and percent-encoded (as it would sit in a link);
* GeoTIFF: every text tag of every IFD (GDAL metadata XML, descriptions, nodata, software...) is
  scanned as text; the compressed pixel bytes are scanned raw (UTF-8 and UTF-16) for values of
  :data:`RAW_MIN_BYTES` bytes or more (shorter byte strings occur by chance in compressed numbers,
  and pixels are numbers written by this package, never text);
* PNG: every chunk except the image data is scanned as text; image data as for GeoTIFF;
* files copied verbatim from the package (the font, its licence, the map script; ``static``) are
  skipped after checking that their bytes equal the packaged copy: they cannot carry user data;
* anything else: every value, every length, raw UTF-8 and UTF-16 bytes as whole tokens;
* every file's path inside the publication, as text.
"""

from __future__ import annotations

import html
import re
import struct
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

import tifffile

TEXT_SUFFIXES = frozenset({".json", ".geojson", ".csv", ".html", ".htm", ".txt", ".js", ".css", ".svg", ".xml",
                           ".md"})
TIFF_SUFFIXES = frozenset({".tif", ".tiff"})
#: Shortest value looked for in compressed pixel bytes (see module docstring).
RAW_MIN_BYTES = 5
_WORD = "0-9A-Za-z_"


def text_forms(value: str) -> list[str]:
    """The forms a value takes in text: as is, JSON ``\\u`` escaped, HTML-escaped, percent-encoded."""
    json_escaped = "".join(c if ord(c) < 128 else f"\\u{ord(c):04x}" for c in value)
    forms = {value, json_escaped, html.escape(value), html.escape(value, quote=False), urllib.parse.quote(value),
             urllib.parse.quote(value, safe="")}
    return sorted(forms)


def encodings(value: str) -> list[bytes]:
    """The byte forms a value may take in a binary file: UTF-8, UTF-16-LE/BE and the text forms."""
    forms = {f.encode("utf-8") for f in text_forms(value)}
    forms |= {value.encode("utf-16-le"), value.encode("utf-16-be")}
    return sorted(forms)


def token_regex(value: str) -> re.Pattern[str]:
    """A case-insensitive whole-token pattern matching any :func:`text_forms` of ``value``."""
    alts = "|".join(re.escape(f) for f in sorted(text_forms(value), key=len, reverse=True))
    return re.compile(f"(?<![{_WORD}])(?:{alts})(?![{_WORD}])", re.IGNORECASE)


def _bytes_regex(value: str) -> re.Pattern[bytes]:
    alts = b"|".join(re.escape(f) for f in sorted(encodings(value), key=len, reverse=True))
    return re.compile(b"(?<![" + _WORD.encode() + b"])(?:" + alts + b")(?![" + _WORD.encode() + b"])",
                      re.IGNORECASE)


def tiff_texts(path: Path) -> list[str]:
    """Every text-valued tag of every IFD of a TIFF (GDAL metadata, nodata, descriptions, software...)."""
    texts = []
    with tifffile.TiffFile(path) as tif:
        for page in tif.pages:
            for tag in page.tags.values():  # type: ignore[union-attr]
                if isinstance(tag.value, str):
                    texts.append(tag.value)
                elif isinstance(tag.value, bytes):
                    texts.append(tag.value.decode("utf-8", "replace"))
    return texts


def png_texts(data: bytes) -> tuple[list[str], bytes]:
    """``(text of every non-image chunk, concatenated IDAT bytes)`` of a PNG."""
    texts, idat, pos = [], b"", 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IDAT":
            idat += body
        elif kind not in (b"IHDR", b"IEND"):
            texts.append(kind.decode("latin-1") + " " + body.decode("utf-8", "replace"))
        pos += 12 + length
    return texts, idat


def find_leaks(root: Path, values: Iterable[str], static: Mapping[str, Path] | None = None) -> list[str]:
    """Every ``(file, value)`` where a personal value occurs in a file under ``root``.

    Args:
        root: Folder to scan (all files, recursively).
        values: Personal strings (blank ones are ignored).
        static: Published path (relative to ``root``, POSIX) → packaged file it must equal byte for
            byte; such files are skipped. A file that differs from its packaged copy is scanned.

    Returns:
        Human-readable problems, empty when nothing leaked.
    """
    wanted = sorted({v.strip() for v in values if v.strip()})
    text_res = [(v, token_regex(v)) for v in wanted]
    byte_res = [(v, _bytes_regex(v)) for v in wanted]
    static = static or {}
    problems: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        data = path.read_bytes()
        if rel in static and static[rel].is_file() and static[rel].read_bytes() == data:
            continue
        suffix = path.suffix.lower()
        texts: list[str] = []
        raw = data
        raw_min = 0
        if suffix in TEXT_SUFFIXES:
            texts, raw = [data.decode("utf-8", "replace")], b""
        elif suffix in TIFF_SUFFIXES:
            texts, raw_min = tiff_texts(path), RAW_MIN_BYTES
        elif data.startswith(b"\x89PNG\r\n\x1a\n"):
            texts, raw = png_texts(data)
            raw_min = RAW_MIN_BYTES
        texts.append(rel)  # file and folder names are published too
        hits = {v for v, rx in text_res if any(rx.search(t) for t in texts)}
        hits |= {v for v, rx in byte_res if raw and len(v.encode("utf-8")) >= raw_min and rx.search(raw)}
        problems += [f"{rel} contains personal value {v!r}" for v in sorted(hits)]
    return problems
