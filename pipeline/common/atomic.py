"""Atomic file and folder writes: write to a temporary sibling, then rename.

A reader never sees a half-written output, and a run killed at any moment
leaves either the old file or the new one, never a corrupt one.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.errors import OutputExistsError


@contextmanager
def atomic_path(final: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it onto ``final`` on success.

    Args:
        final: Where the file must end up.
        suffix: Suffix of the temporary file (defaults to ``final``'s suffix so
            that drivers choosing a format by extension still work).

    Yields:
        A path in the same folder that does not exist yet.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=suffix if suffix is not None else final.suffix, dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(final: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``final`` atomically and return the path."""
    final = Path(final)
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)
    return final


def atomic_write_text(final: Path | str, text: str) -> Path:
    """Write UTF-8 ``text`` to ``final`` atomically and return the path."""
    return atomic_write_bytes(final, text.encode("utf-8"))


def atomic_write_json(final: Path | str, obj: Any, indent: int = 2) -> Path:
    """Write ``obj`` as pretty UTF-8 JSON (non-ASCII kept) atomically."""
    return atomic_write_text(final, json.dumps(obj, indent=indent, ensure_ascii=False, sort_keys=False) + "\n")


#: Marker file that :func:`atomic_dir` leaves in every folder it writes.
OUTPUT_MARKER = ".shimanto-output.json"


def output_owner(folder: Path) -> str | None:
    """The command named by ``folder``'s :data:`OUTPUT_MARKER`, or ``None`` when it has none."""
    try:
        doc = json.loads((folder / OUTPUT_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    command = doc.get("command") if isinstance(doc, dict) else None
    return str(command) if command else None


def check_output_folder(final: Path, command: str, overwrite: bool = False) -> None:
    """Refuse to replace ``final`` unless it is absent, empty, or an earlier output of ``command``.

    ``overwrite`` lets the user replace any folder explicitly (for example an output written before
    folders carried a marker). Never replaces a file with a folder.

    Raises:
        OutputExistsError: ``final`` is a file, or a non-empty folder ``command`` did not write.
    """
    if not final.exists() and not final.is_symlink():
        return
    if not final.is_dir() or final.is_symlink():
        raise OutputExistsError(
            f"--out {str(final)!r} is a file or a link, not a folder; choose a new folder for 'shimanto {command}'"
        )
    owner = output_owner(final)
    if owner == command or overwrite:
        return
    entries = sorted(p.name for p in final.iterdir())
    if not entries:
        return
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    written_by = f"'shimanto {owner}'" if owner else "you or another program"
    raise OutputExistsError(
        f"--out {str(final)!r} already holds files written by {written_by} ({shown}), which 'shimanto {command}' "
        f"would delete; choose another (new or empty) folder, or pass --overwrite to replace this folder"
    )


def _write_marker(folder: Path, command: str) -> None:
    (folder / OUTPUT_MARKER).write_text(
        json.dumps({"command": command}) + "\n",  # no timestamp: reruns stay byte-identical
        encoding="utf-8",
    )


def claim_output_folder(final: Path | str, command: str, overwrite: bool = False) -> Path:
    """Create (or reuse) ``final`` for a command that adds files to it one by one rather than
    replacing it whole (``report``, ``demo``, ``reprocess``): checked as by :func:`atomic_dir`, then
    marked as ``command``'s. Nothing in it is deleted.

    Raises:
        OutputExistsError: see :func:`check_output_folder`.
    """
    final = Path(final)
    check_output_folder(final, command, overwrite)
    final.mkdir(parents=True, exist_ok=True)
    if output_owner(final) != command:
        _write_marker(final, command)
    return final


def _fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` (bottom-up), so a crash after the rename cannot
    leave a renamed folder with empty files."""
    for dirpath, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange_paths(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths with Linux ``renameat2(RENAME_EXCHANGE)`` (glibc ≥ 2.28).

    Returns ``False`` (nothing changed) where the call is unavailable (other systems, old kernels,
    file systems without support), so the caller can fall back to two renames.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(rc == 0)


@contextmanager
def atomic_dir(final: Path | str, command: str, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``final``; swap it into place on success.

    * Safety: ``final`` is replaced only when absent, empty, marked as an earlier output of the same
      ``command`` (:data:`OUTPUT_MARKER`), or when the user passed ``overwrite``
      (:func:`check_output_folder`, checked before any work and again before the swap).
    * The new folder gets the marker, every file and folder in it is fsynced, then it is swapped
      with the old one in one ``renameat2(RENAME_EXCHANGE)`` call, so there is no moment when
      neither exists (two renames only where the kernel lacks the call); the parent is fsynced.
    * On error the temporary folder is removed and ``final`` is untouched.
    """
    final = Path(final)
    check_output_folder(final, command, overwrite)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes 0700; outputs are meant to be shared
    try:
        yield tmp
        _write_marker(tmp, command)
        _fsync_tree(tmp)
        check_output_folder(final, command, overwrite)
        if final.exists():
            if not exchange_paths(tmp, final):
                old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
                old.rmdir()
                os.replace(final, old)
                os.replace(tmp, final)
                tmp = old
        else:
            os.replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
