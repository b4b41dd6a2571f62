"""The installation's secret key for anonymous field IDs (HMAC-SHA256), kept outside every published folder.

Where the key lives (first match wins):

1. ``$SHIMANTO_OPENDATA_KEY_FILE`` — an explicit path (a USB stick, a secrets mount, a test folder);
2. ``$XDG_CONFIG_HOME/shimanto/opendata.key``;
3. ``~/.config/shimanto/opendata.key``.

On the first ``shimanto publish`` the file is created with 32 random bytes from :mod:`secrets`
(64 hex digits), mode ``0600``, its folder ``0700``. Publishing is refused when the key

* sits inside a git working tree (it would be committed and become public),
* sits inside the folder being published,
* is readable by group or others, is shorter than 32 hex digits, or is not hex (so no word-like
  key such as the former ``params.yaml`` default can be used).

A key in ``params.yaml`` (``outputs.anonymise_salt``) is refused outright: params.yaml is committed.

Rotation: move the key file away (keep it offline if old IDs must stay linkable) and publish again;
a new key is generated and every anonymous field ID changes, so IDs of publications made with
different keys cannot be joined. The first 8 hex digits of ``SHA-256(key)`` are shown as ``key_id``
so a town can tell which key a publication used without revealing it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError

ENV_VAR = "SHIMANTO_OPENDATA_KEY_FILE"
KEY_NAME = "opendata.key"
MIN_HEX_DIGITS = 32


@dataclass(frozen=True)
class AnonKey:
    """The loaded key: its bytes (never printed) and where it came from."""

    secret: bytes
    path: Path
    created: bool

    @property
    def key_id(self) -> str:
        """First 8 hex digits of ``SHA-256(secret)``: names the key without revealing it."""
        return hashlib.sha256(self.secret).hexdigest()[:8]


def key_path(environ: dict[str, str] | None = None) -> Path:
    """Where this installation's key lives (see the module docstring for the order)."""
    env = dict(os.environ) if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser().absolute()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return (base / "shimanto" / KEY_NAME).absolute()


def _git_worktree(path: Path) -> Path | None:
    for parent in path.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


def _fix_hint() -> str:
    return (f"set {ENV_VAR} to a file outside any repository and published folder "
            f"(default ~/.config/shimanto/{KEY_NAME})")


def key_problems(path: Path, text: str, mode: int, publish_dir: Path | None) -> list[str]:
    """Every reason the key file at ``path`` with content ``text`` and ``st_mode`` must not be used."""
    problems = []
    repo = _git_worktree(path)
    if repo is not None:
        problems.append(f"anonymisation key {path} is inside the git repository {repo}; {_fix_hint()}")
    if publish_dir is not None and path.resolve().is_relative_to(publish_dir.resolve()):
        problems.append(f"anonymisation key {path} is inside the published folder {publish_dir}; {_fix_hint()}")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        problems.append(f"anonymisation key {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
                        f"run: chmod 600 {path}")
    key = text.strip()
    if len(key) < MIN_HEX_DIGITS or any(c not in "0123456789abcdefABCDEF" for c in key):
        problems.append(f"anonymisation key {path} is not at least {MIN_HEX_DIGITS} hex digits; move it away and "
                        "publish again to generate a new one")
    return problems


def load_or_create_key(publish_dir: Path | None = None, environ: dict[str, str] | None = None) -> AnonKey:
    """This installation's key, generated on first use.

    Raises:
        ConfigError: the key is unusable (every reason in one message; see :func:`key_problems`).
    """
    path = key_path(environ)
    created = False
    if not path.exists():
        repo = _git_worktree(path)
        if repo is not None:
            raise ConfigError(f"will not create the anonymisation key {path} inside the git repository {repo}; "
                              f"{_fix_hint()}")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        created = True
    if not path.is_file():
        raise ConfigError(f"anonymisation key {path} is not a file; {_fix_hint()}")
    text = path.read_text(encoding="ascii", errors="replace")
    problems = key_problems(path, text, path.stat().st_mode, publish_dir)
    if problems:
        raise ConfigError("; ".join(problems))
    return AnonKey(bytes.fromhex(text.strip()), path, created)
