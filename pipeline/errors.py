"""The pipeline's error hierarchy.

Every error the pipeline raises on purpose derives from :class:`PipelineError`.
Subclasses also inherit the matching builtin so callers that only know Python's
exceptions still catch them (``except FileNotFoundError`` catches
:class:`SceneNotFoundError`). Only ``cli.py`` turns them into messages and exit
codes; library code raises, never prints or exits.

Stage packages may define narrower subclasses in their own ``errors`` module,
always deriving from one of the classes here.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Root of every error the pipeline raises deliberately.

    The message must name the bad value, what was expected and how to fix it.
    """

    exit_code: int = 1


class InputError(PipelineError, ValueError):
    """An input value or file content is invalid (bad band count, bad polygon...)."""

    exit_code = 2


class OutputExistsError(PipelineError, FileExistsError):
    """An output folder holds files the command did not write (it would delete them)."""

    exit_code = 2


class ConfigError(PipelineError, ValueError):
    """``params.yaml`` or a spec file (camera, sensor) is malformed."""

    exit_code = 2


class SceneNotFoundError(PipelineError, FileNotFoundError):
    """A required input file or folder does not exist."""

    exit_code = 2


class GeoreferenceError(PipelineError, ValueError):
    """A raster or vector lacks a CRS/transform, or inputs do not overlap."""

    exit_code = 2


class UnknownNameError(PipelineError, KeyError):
    """A name (sensor, camera, index, pattern...) is not in its registry."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SafetyLimitError(PipelineError, ValueError):
    """A flight plan breaks a hard legal or safety limit (e.g. 150 m AGL)."""

    exit_code = 3


class LinkError(PipelineError, ConnectionError):
    """A MAVLink or network peer did not answer or refused the request."""

    exit_code = 4


class VerificationMismatchError(PipelineError, RuntimeError):
    """A vehicle accepted a transfer but what it reads back differs from what was sent.

    Not a link failure (exit 4): the link worked and the vehicle holds a different mission.
    """

    exit_code = 7


class DependencyMissingError(PipelineError, RuntimeError):
    """An optional external program or package is not installed."""

    exit_code = 5


def unknown_name(kind: str, name: str, known: list[str] | tuple[str, ...]) -> UnknownNameError:
    """Build a uniform error for a name missing from a registry.

    Args:
        kind: What the registry holds, e.g. ``"sensor"``.
        name: The name the user gave.
        known: The names that exist.

    Returns:
        An :class:`UnknownNameError` listing the valid choices.
    """
    choices = ", ".join(sorted(known))
    return UnknownNameError(f"unknown {kind} {name!r}; expected one of: {choices}")
