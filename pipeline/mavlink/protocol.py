"""Ground-side MAVLink mission protocol as pure state machines (no I/O, no clock).

Each machine is driven by three calls, all taking the current time ``now`` (s):
``start(now)``, ``handle(event, now)`` for every decoded vehicle message and
``tick(now)`` when :attr:`deadline` has passed. Each returns the
:data:`Action` list to send. A finished machine has ``done`` true; failures are
raised as :class:`~pipeline.mavlink.errors.LinkTimeoutError` or
:class:`~pipeline.mavlink.errors.MissionRejectedError`.

Protocol (https://mavlink.io/en/services/mission.html), with ArduPilot's quirks:

* Upload: ``MISSION_COUNT`` -> vehicle requests each seq with ``MISSION_REQUEST_INT``
  or legacy ``MISSION_REQUEST`` (ArduPilot uses the legacy one) -> ``MISSION_ITEM_INT``
  ... -> final ``MISSION_ACK``. Requests are answered whatever their order (the
  vehicle may re-request or restart). ``MAV_MISSION_INVALID_SEQUENCE`` acks answer
  duplicates and do not end the upload. ``MAV_MISSION_NO_SPACE`` before the first
  request (ArduPilot right after boot) is retried after a delay. A silent period
  re-sends the count (before the first request) or the last requested item; a
  missing final ack restarts the upload from the count.
* Download: ``MISSION_REQUEST_LIST`` -> ``MISSION_COUNT`` -> ``MISSION_REQUEST_INT``
  per seq -> ``MISSION_ITEM_INT`` ... -> ``MISSION_ACK`` (accepted).
* Clear: ``MISSION_CLEAR_ALL`` -> ``MISSION_ACK``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.mavlink.errors import LinkTimeoutError, MissionRejectedError
from pipeline.mavlink.wire import MissionResult, MissionType, WireItem, result_description, result_name


# ----- events (decoded vehicle messages) -------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemRequest:
    """MISSION_REQUEST_INT, or MISSION_REQUEST when ``legacy``."""

    seq: int
    mission_type: int
    legacy: bool = False


@dataclass(frozen=True)
class Ack:
    """MISSION_ACK."""

    result: int
    mission_type: int


@dataclass(frozen=True)
class Count:
    """MISSION_COUNT."""

    count: int
    mission_type: int


@dataclass(frozen=True)
class ItemReceived:
    """MISSION_ITEM_INT (or legacy MISSION_ITEM, converted)."""

    item: WireItem


Event = ItemRequest | Ack | Count | ItemReceived


# ----- actions (messages to send) -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendCount:
    count: int
    mission_type: int


@dataclass(frozen=True)
class SendItem:
    item: WireItem
    legacy: bool = False  # MISSION_ITEM (float) instead of MISSION_ITEM_INT


@dataclass(frozen=True)
class SendRequestList:
    mission_type: int


@dataclass(frozen=True)
class SendRequest:
    seq: int
    mission_type: int
    legacy: bool = False  # MISSION_REQUEST (id 40) instead of MISSION_REQUEST_INT (id 51)


@dataclass(frozen=True)
class SendAck:
    result: int
    mission_type: int


@dataclass(frozen=True)
class SendClearAll:
    mission_type: int


Action = SendCount | SendItem | SendRequestList | SendRequest | SendAck | SendClearAll


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts and retry budgets of one transfer.

    Attributes:
        timeout_s: Silence after which the last message is re-sent.
        retries: Consecutive silent periods tolerated before giving up.
        busy_retries: ``MAV_MISSION_NO_SPACE`` answers to the count retried (vehicle just booted).
        busy_delay_s: Wait before re-sending the count after such an answer.
    """

    timeout_s: float = 1.5
    retries: int = 5
    busy_retries: int = 3
    busy_delay_s: float = 1.0


def type_name(mission_type: int) -> str:
    """``0 -> "mission"``, ``1 -> "fence"``, ``2 -> "rally"``."""
    try:
        return MissionType(mission_type).name.lower()
    except ValueError:
        return f"mission_type {mission_type}"


def rejected(what: str, result: int, mission_type: int) -> MissionRejectedError:
    """Build the error for a NACK ``result`` answering ``what``."""
    name = result_name(result)
    desc = result_description(result)
    return MissionRejectedError(
        f"vehicle refused the {type_name(mission_type)} {what}: {name}" + (f" ({desc})" if desc else ""),
        result,
        name,
    )


class _Machine:
    """Shared bookkeeping: deadline and the count of consecutive silent periods."""

    def __init__(self, mission_type: int, policy: RetryPolicy) -> None:
        self.mission_type = int(mission_type)
        self.policy = policy
        self.deadline = 0.0
        self.done = False
        self.stalls = 0

    def _arm(self, now: float, delay: float | None = None) -> None:
        self.deadline = now + (self.policy.timeout_s if delay is None else delay)

    def _stalled(self, now: float, what: str) -> None:
        self.stalls += 1
        if self.stalls > self.policy.retries:
            raise LinkTimeoutError(
                f"vehicle stopped answering the {type_name(self.mission_type)} {what} "
                f"({self.policy.retries} retries of {self.policy.timeout_s:g} s); check the link and --connect URL, "
                "or raise --timeout/--retries"
            )
        self._arm(now)


class UploadMachine(_Machine):
    """Send ``items`` (wire seq 0..n-1) to the vehicle; done on the final accepted ack."""

    def __init__(self, items: Sequence[WireItem], mission_type: int, policy: RetryPolicy) -> None:
        super().__init__(mission_type, policy)
        self.items = list(items)
        self.state = "count"  # count | items | busy
        self.last_requested = -1
        self.highest_sent = -1
        self.final_resends = 0
        self.busy_left = policy.busy_retries
        self.requests_served = 0

    def start(self, now: float) -> list[Action]:
        self._arm(now)
        return [SendCount(len(self.items), self.mission_type)]

    def handle(self, event: Event, now: float) -> list[Action]:
        if self.done or getattr(event, "mission_type", None) != self.mission_type:
            return []
        if isinstance(event, ItemRequest):
            return self._on_request(event, now)
        if isinstance(event, Ack):
            return self._on_ack(event, now)
        return []

    def _on_request(self, event: ItemRequest, now: float) -> list[Action]:
        if not 0 <= event.seq < len(self.items):
            raise MissionRejectedError(
                f"vehicle requested {type_name(self.mission_type)} item {event.seq} but only {len(self.items)} "
                "were announced (protocol error on the vehicle side)",
                int(MissionResult.INVALID_SEQUENCE),
                result_name(int(MissionResult.INVALID_SEQUENCE)),
            )
        if event.seq > self.highest_sent or self.state != "items":
            self.stalls = 0
        self.state = "items"
        self.last_requested = event.seq
        self.highest_sent = max(self.highest_sent, event.seq)
        self.requests_served += 1
        self._arm(now)
        return [SendItem(self.items[event.seq])]

    def _on_ack(self, event: Ack, now: float) -> list[Action]:
        if event.result == MissionResult.ACCEPTED:
            if not self.items or self.highest_sent == len(self.items) - 1:
                self.done = True
            return []  # an accepted ack before every item went out is stale: ignore it
        if event.result == MissionResult.INVALID_SEQUENCE:
            return []  # answer to a duplicate item; does not end the upload
        if event.result == MissionResult.NO_SPACE and self.state in ("count", "busy") and self.busy_left > 0:
            self.busy_left -= 1
            self.state = "busy"
            self._arm(now, self.policy.busy_delay_s)
            return []
        raise rejected("upload", event.result, self.mission_type)

    def tick(self, now: float) -> list[Action]:
        if self.done or now < self.deadline:
            return []
        if self.state == "busy":
            self.state = "count"
            self._arm(now)
            return [SendCount(len(self.items), self.mission_type)]
        where = "count" if self.state == "count" else f"upload at item {self.last_requested}"
        self._stalled(now, where)
        if self.state == "count":
            return [SendCount(len(self.items), self.mission_type)]
        if self.highest_sent == len(self.items) - 1:  # every item went out; the final ack may be lost
            self.final_resends += 1
            if self.final_resends % 2 == 0:  # still nothing: restart the whole upload
                self.state = "count"
                self.highest_sent = -1
                return [SendCount(len(self.items), self.mission_type)]
        return [SendItem(self.items[self.last_requested])]


class DownloadMachine(_Machine):
    """Read the vehicle's list of ``mission_type``; :attr:`items` holds wire seq 0..n-1 when done."""

    def __init__(self, mission_type: int, policy: RetryPolicy) -> None:
        super().__init__(mission_type, policy)
        self.state = "list"  # list | items
        self.count = 0
        self.items: list[WireItem] = []

    def start(self, now: float) -> list[Action]:
        self._arm(now)
        return [SendRequestList(self.mission_type)]

    def handle(self, event: Event, now: float) -> list[Action]:
        if self.done:
            return []
        if isinstance(event, ItemReceived):
            return self._on_item(event.item, now)
        if getattr(event, "mission_type", None) != self.mission_type:
            return []
        if isinstance(event, Count) and self.state == "list":
            self.count = event.count
            self.stalls = 0
            if self.count == 0:
                self.done = True
                return [SendAck(int(MissionResult.ACCEPTED), self.mission_type)]
            self.state = "items"
            self._arm(now)
            return [SendRequest(0, self.mission_type)]
        if isinstance(event, Ack) and event.result not in (MissionResult.ACCEPTED, MissionResult.INVALID_SEQUENCE):
            raise rejected("download", event.result, self.mission_type)
        return []

    def _on_item(self, item: WireItem, now: float) -> list[Action]:
        if self.state != "items" or item.mission_type != self.mission_type or item.seq != len(self.items):
            return []  # duplicate or stale
        self.items.append(item)
        self.stalls = 0
        if len(self.items) == self.count:
            self.done = True
            return [SendAck(int(MissionResult.ACCEPTED), self.mission_type)]
        self._arm(now)
        return [SendRequest(len(self.items), self.mission_type)]

    def tick(self, now: float) -> list[Action]:
        if self.done or now < self.deadline:
            return []
        if self.state == "list":
            self._stalled(now, "list request")
            return [SendRequestList(self.mission_type)]
        self._stalled(now, f"download at item {len(self.items)}")
        return [SendRequest(len(self.items), self.mission_type)]


class ClearMachine(_Machine):
    """Delete the vehicle's list of ``mission_type`` (MISSION_CLEAR_ALL)."""

    def start(self, now: float) -> list[Action]:
        self._arm(now)
        return [SendClearAll(self.mission_type)]

    def handle(self, event: Event, now: float) -> list[Action]:
        if self.done or not isinstance(event, Ack) or event.mission_type != self.mission_type:
            return []
        if event.result == MissionResult.ACCEPTED:
            self.done = True
        elif event.result != MissionResult.INVALID_SEQUENCE:
            raise rejected("clear", event.result, self.mission_type)
        return []

    def tick(self, now: float) -> list[Action]:
        if self.done or now < self.deadline:
            return []
        self._stalled(now, "clear")
        return [SendClearAll(self.mission_type)]


Machine = UploadMachine | DownloadMachine | ClearMachine
