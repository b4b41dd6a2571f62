"""Vehicle side of the mission protocol, behaving as ArduPilot (or PX4) does; pure, no I/O.

Used by the simulated vehicle (:mod:`pipeline.mavlink.vehicle`), the test double
for real hardware. Behaviour follows ArduCopter 4.7 as observed in SITL
(``shared/notes/mavlink-ardupilot.md``):

* items are requested with legacy ``MISSION_REQUEST`` (id 40); PX4 uses ``MISSION_REQUEST_INT``;
* the pending item is re-requested every ``rerequest_s`` (about 1 s) while nothing arrives,
  and the upload is cancelled (``MAV_MISSION_OPERATION_CANCELLED``) after ``upload_timeout_s``;
* an item other than the expected one (a duplicate) gets ``MAV_MISSION_INVALID_SEQUENCE``
  without ending the upload;
* for ``refuse_after_boot_s`` after boot, ``MISSION_COUNT`` gets ``MAV_MISSION_NO_SPACE`` and
  STATUSTEXT "Only 0 items are supported";
* each item is decoded and stored as ArduPilot does (:mod:`pipeline.mavlink.vehicle_store`, independent
  of the ground side's encoder): positions range-checked, x/y of DO_DIGICAM_* kept as 8-bit integers;
* MISSION seq 0 is home and is overwritten with the vehicle's home position;
* on read-back ``GLOBAL_RELATIVE_ALT_INT`` (6) becomes ``GLOBAL_RELATIVE_ALT`` (3),
  ``GLOBAL_INT`` (5) becomes 0, ``GLOBAL_TERRAIN_ALT_INT`` (11) becomes 10, and commands without
  a position (DO_*, RTL) come back with frame 0.

Fault injection for tests: ``max_items`` (NO_SPACE above it) and ``nack_error_rate``
(seeded random ``MAV_MISSION_ERROR`` per received item).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from pipeline.mavlink.protocol import Action, ItemReceived, ItemRequest, SendAck, SendCount, SendItem, SendRequest
from pipeline.mavlink.vehicle_store import ardupilot_store, is_location
from pipeline.mavlink.wire import (
    DEG_E7,
    FIRMWARE_HOME_AT_SEQ0,
    MissionResult,
    MissionType,
    WireItem,
    check_firmware,
    result_name,
)

#: ArduPilot's read-back frame for a stored frame.
ARDUPILOT_READBACK_FRAME: dict[int, int] = {6: 3, 5: 0, 11: 10}
SEVERITY_CRITICAL = 2
SEVERITY_WARNING = 4
SEVERITY_INFO = 6


@dataclass(frozen=True)
class CountReceived:
    """MISSION_COUNT from the ground station."""

    count: int
    mission_type: int


@dataclass(frozen=True)
class ListRequested:
    """MISSION_REQUEST_LIST."""

    mission_type: int


@dataclass(frozen=True)
class ClearAll:
    """MISSION_CLEAR_ALL."""

    mission_type: int


@dataclass(frozen=True)
class StatusText:
    """A STATUSTEXT to send."""

    severity: int
    text: str


GcsEvent = CountReceived | ItemReceived | ListRequested | ItemRequest | ClearAll
ServerOutput = Action | StatusText


@dataclass(frozen=True)
class MissionServerConfig:
    """How the vehicle answers the mission protocol.

    Attributes:
        firmware: ``"ardupilot"`` (home at seq 0, legacy requests, frame rewrite) or ``"px4"``.
        refuse_after_boot_s: NO_SPACE answers to MISSION_COUNT this long after boot.
        rerequest_s: Re-request period while an item is pending.
        upload_timeout_s: Silence after which an upload is cancelled.
        max_items: Largest accepted count (NO_SPACE above); None = unlimited.
        nack_error_rate: Probability of answering a received item with MAV_MISSION_ERROR.
        seed: Seed of the fault-injection random stream.
    """

    firmware: str = "ardupilot"
    refuse_after_boot_s: float = 1.0
    rerequest_s: float = 1.0
    upload_timeout_s: float = 8.0
    max_items: int | None = None
    nack_error_rate: float = 0.0
    seed: int = 0


@dataclass
class _Upload:
    mission_type: int
    count: int
    items: list[WireItem]
    last_activity: float
    next_request: float


class VehicleMissionServer:
    """Stores the MISSION, FENCE and RALLY lists and serves the protocol."""

    def __init__(self, config: MissionServerConfig, home: tuple[float, float, float], boot_time: float) -> None:
        self.config = config
        self.home_at_seq0 = FIRMWARE_HOME_AT_SEQ0[check_firmware(config.firmware)]
        self.ardupilot = config.firmware == "ardupilot"
        self.home = home
        self.boot_time = boot_time
        self.rng = random.Random(config.seed)
        self.lists: dict[int, list[WireItem]] = {int(t): [] for t in (MissionType.MISSION, MissionType.FENCE,
                                                                     MissionType.RALLY)}
        self.lists[int(MissionType.MISSION)] = self._home_list()
        self.upload: _Upload | None = None
        self.version = 0  # bumped whenever the MISSION list changes

    def _home_list(self) -> list[WireItem]:
        if not self.home_at_seq0:
            return []
        lat, lon, alt = self.home
        return [WireItem(0, 0, 16, x=round(lat * DEG_E7), y=round(lon * DEG_E7), z=alt)]

    def mission(self) -> list[WireItem]:
        """The stored MISSION list (seq 0 = home on ArduPilot)."""
        return self.lists[int(MissionType.MISSION)]

    def _request(self, seq: int, mission_type: int) -> SendRequest:
        return SendRequest(seq, mission_type, legacy=self.ardupilot)

    def handle(self, event: GcsEvent, now: float) -> list[ServerOutput]:
        """Answer one ground-station message."""
        if isinstance(event, CountReceived):
            return self._on_count(event, now)
        if isinstance(event, ItemReceived):
            return self._on_item(event.item, now)
        if isinstance(event, ListRequested):
            return [SendCount(len(self.lists.get(event.mission_type, [])), event.mission_type)]
        if isinstance(event, ItemRequest):
            stored = self.lists.get(event.mission_type, [])
            if not 0 <= event.seq < len(stored):
                return [SendAck(int(MissionResult.INVALID_SEQUENCE), event.mission_type)]
            return [SendItem(self._readback(stored[event.seq]), legacy=event.legacy)]
        if isinstance(event, ClearAll):
            if event.mission_type not in self.lists and event.mission_type != MissionType.ALL:
                return [SendAck(int(MissionResult.UNSUPPORTED), event.mission_type)]
            for mission_type in self.lists if event.mission_type == MissionType.ALL else [event.mission_type]:
                self._store(mission_type, [])
            self.upload = None
            return [SendAck(int(MissionResult.ACCEPTED), event.mission_type)]
        return []

    def _on_count(self, event: CountReceived, now: float) -> list[ServerOutput]:
        mission_type = event.mission_type
        if mission_type not in self.lists:
            return [SendAck(int(MissionResult.UNSUPPORTED), mission_type)]
        if now - self.boot_time < self.config.refuse_after_boot_s:
            return [SendAck(int(MissionResult.NO_SPACE), mission_type), StatusText(SEVERITY_WARNING,
                                                                                    "Only 0 items are supported")]
        limit = self.config.max_items
        if limit is not None and event.count > limit:
            return [SendAck(int(MissionResult.NO_SPACE), mission_type),
                    StatusText(SEVERITY_WARNING, f"Only {limit} items are supported")]
        if event.count == 0:
            self._store(mission_type, [])
            self.upload = None
            return [SendAck(int(MissionResult.ACCEPTED), mission_type)]
        self.upload = _Upload(mission_type, event.count, [], now, now + self.config.rerequest_s)
        return [self._request(0, mission_type)]

    def _on_item(self, item: WireItem, now: float) -> list[ServerOutput]:
        up = self.upload
        if up is None or item.mission_type != up.mission_type or item.seq != len(up.items):
            return [SendAck(int(MissionResult.INVALID_SEQUENCE), item.mission_type)]
        if self.config.nack_error_rate > 0 and self.rng.random() < self.config.nack_error_rate:
            self.upload = None
            return [SendAck(int(MissionResult.ERROR), item.mission_type),
                    StatusText(SEVERITY_WARNING, f"Mission upload failed at item {item.seq} (injected error)")]
        stored = ardupilot_store(item) if self.ardupilot else replace(item, current=0)
        if isinstance(stored, int):  # refused as ArduPilot does (e.g. latitude out of range)
            self.upload = None
            return [SendAck(stored, item.mission_type),
                    StatusText(SEVERITY_WARNING, f"Mission item {item.seq} refused ({result_name(stored)})")]
        up.items.append(stored)
        up.last_activity = now
        up.next_request = now + self.config.rerequest_s
        if len(up.items) < up.count:
            return [self._request(len(up.items), up.mission_type)]
        self.upload = None
        self._store(up.mission_type, up.items)
        return [SendAck(int(MissionResult.ACCEPTED), up.mission_type)]

    def _store(self, mission_type: int, items: list[WireItem]) -> None:
        if mission_type == MissionType.MISSION:
            items = self._home_list() + items[1:] if self.home_at_seq0 else list(items)
            self.version += 1
        self.lists[mission_type] = list(items)

    def _readback(self, item: WireItem) -> WireItem:
        if not self.ardupilot:
            return item
        frame = ARDUPILOT_READBACK_FRAME.get(item.frame, item.frame) if is_location(item) else 0
        return replace(item, frame=frame)

    def tick(self, now: float) -> list[ServerOutput]:
        """Re-request the pending item, or cancel a stalled upload."""
        up = self.upload
        if up is None or now < up.next_request:
            return []
        if now - up.last_activity > self.config.upload_timeout_s:
            self.upload = None
            return [SendAck(int(MissionResult.OPERATION_CANCELLED), up.mission_type),
                    StatusText(SEVERITY_WARNING, "Mission upload timeout")]
        up.next_request = now + self.config.rerequest_s
        return [self._request(len(up.items), up.mission_type)]
