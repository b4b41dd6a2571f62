"""Narrower errors of the MAVLink stage: link failures (:class:`~pipeline.errors.LinkError`) and read-back
mismatches."""

from __future__ import annotations

from pipeline.errors import LinkError, VerificationMismatchError


class LinkTimeoutError(LinkError):
    """The vehicle stopped answering: no reply after every retry."""


class MissionRejectedError(LinkError):
    """The vehicle answered a mission transfer with a MISSION_ACK error (NACK).

    Attributes:
        result: The MAV_MISSION_RESULT value.
        result_name: Its name, e.g. ``"MAV_MISSION_NO_SPACE"``.
    """

    def __init__(self, message: str, result: int, result_name: str) -> None:
        super().__init__(message)
        self.result = result
        self.result_name = result_name


class VerificationError(VerificationMismatchError):
    """The mission read back from the vehicle differs from the one uploaded (exit 7, not a link failure).

    Attributes:
        differences: ``(list name, item number from 1, command name, problems)`` per differing item.
    """

    def __init__(self, message: str, differences: tuple[tuple[str, int, str, tuple[str, ...]], ...] = ()) -> None:
        super().__init__(message)
        self.differences = differences


class CommandRejectedError(LinkError):
    """A COMMAND_LONG (set mode, arm, mission start) was refused; the message relays the vehicle's reasons."""
