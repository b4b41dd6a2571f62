"""Errors of the flight stage (narrower subclasses of :mod:`pipeline.errors`)."""

from __future__ import annotations

from pipeline.errors import InputError


class MissionFileError(InputError):
    """A mission file (QGC ``.plan`` or ``QGC WPL 110``) is malformed or unsupported."""
