"""Narrower errors of the MAVLink stage, all :class:`~pipeline.errors.LinkError` subclasses."""

from __future__ import annotations

from pipeline.errors import LinkError


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


class VerificationError(LinkError):
    """The mission read back from the vehicle differs from the one uploaded."""


class CommandRejectedError(LinkError):
    """A COMMAND_LONG (set mode, arm, mission start) was refused; the message relays the vehicle's reasons."""
