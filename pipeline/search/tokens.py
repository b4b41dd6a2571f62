"""Signed, expiring stream tokens: HMAC-SHA256 over path, role and expiry.

A token is ``<expiry>.<mac>`` where ``expiry`` is a Unix time in whole seconds
and ``mac = base64url(HMAC-SHA256(secret, "shimanto-stream-v1\\n" + role + "\\n" + path + "\\n" + expiry))``
without padding. It is bound to one stream path (``/live/s1`` for RTMP,
``/hls/s1`` for an HLS playlist and its segments) and one role (``publish`` or
``read``): a publish token cannot be used to watch and a read token cannot be
used to push video, and neither works for another sector. Verification uses
:func:`hmac.compare_digest` (constant time). The secret never leaves this
module's callers: only tokens are written anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pipeline.common.atomic import atomic_path
from pipeline.errors import InputError, SceneNotFoundError

#: Domain-separation prefix of the signed message (bump to invalidate every token).
TOKEN_VERSION = "shimanto-stream-v1"
#: Shortest secret accepted, in bytes (RFC 2104 recommends at least the hash length, 32 for SHA-256).
MIN_SECRET_BYTES = 16
ROLES: tuple[str, ...] = ("publish", "read")


class TokenVerdict(StrEnum):
    """Why a token was accepted or refused."""

    OK = "ok"
    MALFORMED = "malformed"
    EXPIRED = "expired"
    BAD_SIGNATURE = "bad-signature"  # tampered, or signed for another path/role/secret


@dataclass(frozen=True)
class TokenCheck:
    """The result of :func:`verify_token`."""

    verdict: TokenVerdict
    expires: int | None = None

    @property
    def ok(self) -> bool:
        """True when the token is valid for the path and role asked."""
        return self.verdict is TokenVerdict.OK


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(secret: bytes, path: str, role: str, expires: int) -> bytes:
    message = f"{TOKEN_VERSION}\n{role}\n{path}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InputError(f"unknown stream role {role!r}; expected one of: {', '.join(ROLES)}")


def sign_token(secret: bytes, path: str, role: str, expires: int) -> str:
    """Sign a token for ``path`` and ``role`` valid until ``expires`` (Unix seconds).

    Args:
        secret: The shared secret (bytes of the secret file).
        path: The stream path the token is bound to, e.g. ``/live/s1``.
        role: ``publish`` or ``read``.
        expires: Expiry time, Unix seconds (UTC).

    Returns:
        The token, URL-safe (digits, ``.``, base64url alphabet).
    """
    _check_role(role)
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(f"stream secret has {len(secret)} bytes; expected at least {MIN_SECRET_BYTES}")
    return f"{int(expires)}.{_b64url(_mac(secret, path, role, int(expires)))}"


def verify_token(secret: bytes, token: str, path: str, role: str, now: float) -> TokenCheck:
    """Check ``token`` for ``path`` and ``role`` at time ``now`` (Unix seconds).

    The MAC is compared with :func:`hmac.compare_digest` before the expiry is
    looked at, so a forged expiry is reported as a bad signature.
    """
    if role not in ROLES or not token or token.count(".") != 1:
        return TokenCheck(TokenVerdict.MALFORMED)
    expires_text, mac_text = token.split(".")
    if not expires_text.isdigit() or len(expires_text) > 12:
        return TokenCheck(TokenVerdict.MALFORMED)
    expires = int(expires_text)
    expected = _b64url(_mac(secret, path, role, expires))
    if not hmac.compare_digest(expected.encode("ascii"), mac_text.encode("ascii", errors="replace")):
        return TokenCheck(TokenVerdict.BAD_SIGNATURE, expires)
    if now >= expires:
        return TokenCheck(TokenVerdict.EXPIRED, expires)
    return TokenCheck(TokenVerdict.OK, expires)


#: Longest link lifetime accepted, s (72 h: a multi-day search re-issues links rather than keeping old ones alive).
MAX_TTL_S = 72 * 3600


def parse_ttl(text: str) -> int:
    """Parse a duration like ``6h``, ``90m``, ``45s``, ``2d`` or ``3600`` into whole seconds.

    The value must be a finite positive number of at most :data:`MAX_TTL_S`
    seconds (72 h); ``inf``, ``nan`` and ``1e30`` are refused, not truncated.

    Raises:
        InputError: the text is not a positive duration of at most 72 h.
    """
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = text.strip().lower()
    number, unit = (raw[:-1], raw[-1]) if raw and raw[-1] in units else (raw, "s")
    try:
        value = float(number) * units[unit]
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 1 <= value <= MAX_TTL_S):
        raise InputError(
            f"bad link lifetime {text!r}; expected a positive duration of at most 72h ({MAX_TTL_S} s)"
            " with s, m, h or d, e.g. 6h"
        )
    return int(value)


def read_secret(path: Path | str) -> bytes:
    """Read the stream secret from ``path`` (surrounding whitespace stripped).

    Raises:
        SceneNotFoundError: the file does not exist.
        InputError: the file is readable by group/others, or too short.
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(
            f"secret file {str(path)!r} does not exist; create one with 'shimanto search secret {path}'"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InputError(f"secret file {str(path)!r} has mode {mode:04o}; expected 0600 — run: chmod 600 {path}")
    secret = path.read_bytes().strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(
            f"secret file {str(path)!r} holds {len(secret)} bytes; expected at least {MIN_SECRET_BYTES}"
            f" — create a new one with 'shimanto search secret {path}'"
        )
    return secret


def write_new_secret(path: Path | str) -> Path:
    """Write a fresh random secret (64 hex characters) to ``path`` with mode 0600, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    os.chmod(path, 0o600)
    return path
