"""Content hashing shared by fingerprints and model cards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHUNK_BYTES = 1 << 20


def feed_file(hasher: Any, path: Path) -> Any:
    """Stream ``path``'s bytes into ``hasher`` (a ``hashlib`` object) in 1 MiB chunks; return the hasher."""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            hasher.update(chunk)
    return hasher
