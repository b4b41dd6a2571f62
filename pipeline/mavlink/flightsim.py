"""Kinematic mission flight for the simulated vehicle: pure, stepped in simulated seconds.

A point-mass vehicle flies each NAV item at constant speed along the straight
3-D segment to it (flat-earth offsets, adequate over a few kilometres):

    north = (lat1 - lat0) * pi/180 * R,   east = (lon1 - lon0) * pi/180 * R * cos(lat0),   R = 6378137 m

Distance camera triggering (``DO_SET_CAM_TRIGG_DIST`` param1 = metres) fires a shot
every ``d`` metres of horizontal travel, splitting steps at the trigger points so
shots are spaced exactly; ``DO_DIGICAM_CONTROL`` fires one shot when its stored shooting command
(x) is 1, as ArduPilot's ``AP_Camera::control`` does. Events returned by
:meth:`FlightSim.step` become MISSION_CURRENT, MISSION_ITEM_REACHED and CAMERA_FEEDBACK.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.core.mission import Cmd, Frame
from pipeline.mavlink.vehicle_store import shooting_command
from pipeline.mavlink.verify import has_position
from pipeline.mavlink.wire import DEG_E7, WireItem

EARTH_RADIUS_M = 6378137.0
_AMSL_FRAMES = (int(Frame.GLOBAL), int(Frame.GLOBAL_INT))


def offset_ne(lat0: float, lon0: float, lat1: float, lon1: float) -> tuple[float, float]:
    """North/east metres from point 0 to point 1 (flat-earth approximation)."""
    north = math.radians(lat1 - lat0) * EARTH_RADIUS_M
    east = math.radians(lon1 - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    return north, east


def displace(lat: float, lon: float, north: float, east: float) -> tuple[float, float]:
    """Point ``north``/``east`` metres away from ``(lat, lon)``."""
    dlat = math.degrees(north / EARTH_RADIUS_M)
    dlon = math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


@dataclass(frozen=True)
class CurrentChanged:
    seq: int


@dataclass(frozen=True)
class Reached:
    seq: int


@dataclass(frozen=True)
class CameraShot:
    index: int
    lat: float
    lon: float
    rel_alt: float


@dataclass(frozen=True)
class Landed:
    pass


FlightEvent = CurrentChanged | Reached | CameraShot | Landed


class FlightSim:
    """Flies a wire mission list (as stored on the vehicle) from the home position."""

    def __init__(self, home: tuple[float, float, float], speed_m_s: float = 10.0) -> None:
        self.home = home
        self.lat, self.lon = home[0], home[1]
        self.rel_alt = 0.0
        self.speed = speed_m_s
        self.default_speed = speed_m_s
        self.items: list[WireItem] = []
        self.seq = 0
        self.active = False
        self.complete = False
        self.trigger_dist = 0.0
        self.since_shot = 0.0
        self.images = 0
        self.hold_left = 0.0
        self.rtl_phase = 0
        self.velocity = (0.0, 0.0, 0.0)  # north, east, up m/s

    def load(self, items: list[WireItem], first_seq: int) -> None:
        """Replace the mission and make ``first_seq`` current (not flying yet)."""
        self.items = list(items)
        self.seq = first_seq
        self.active = False
        self.complete = False

    def start(self, first_seq: int) -> list[FlightEvent]:
        """Begin flying at ``first_seq``."""
        self.seq = first_seq
        self.active = bool(self.items) and first_seq < len(self.items)
        self.complete = not self.active
        self.trigger_dist = 0.0
        self.speed = self.default_speed
        return [CurrentChanged(self.seq)]

    def _target(self, item: WireItem) -> tuple[float, float, float]:
        lat, lon = item.x / DEG_E7, item.y / DEG_E7
        if item.x == 0 and item.y == 0:
            lat, lon = self.lat, self.lon
        alt = item.z - self.home[2] if item.frame in _AMSL_FRAMES else item.z
        cmd = item.command
        if cmd == Cmd.NAV_TAKEOFF:
            return self.lat, self.lon, alt
        if cmd == Cmd.NAV_LAND:
            return lat, lon, 0.0
        if cmd == Cmd.NAV_RETURN_TO_LAUNCH:
            return (self.home[0], self.home[1], self.rel_alt) if self.rtl_phase == 0 else (self.lat, self.lon, 0.0)
        return lat, lon, alt

    def _advance(self, events: list[FlightEvent]) -> None:
        self.seq += 1
        self.rtl_phase = 0
        if self.seq >= len(self.items):
            self.active = False
            self.complete = True
        events.append(CurrentChanged(self.seq))

    def _shot(self, events: list[FlightEvent]) -> None:
        self.images += 1
        events.append(CameraShot(self.images, self.lat, self.lon, self.rel_alt))

    def _do_command(self, item: WireItem, events: list[FlightEvent]) -> None:
        if item.command == Cmd.DO_SET_CAM_TRIGG_DIST:
            self.trigger_dist = max(0.0, item.param1)
            self.since_shot = 0.0
            if item.param3 > 0 and self.trigger_dist > 0:
                self._shot(events)
        elif item.command == Cmd.DO_DIGICAM_CONTROL and shooting_command(item) == 1:
            self._shot(events)
        elif item.command == Cmd.DO_CHANGE_SPEED and item.param2 > 0:
            self.speed = item.param2
        self._advance(events)

    def _fly_to(self, target: tuple[float, float, float], budget_s: float, events: list[FlightEvent]) -> float:
        """Move toward ``target``; returns unused seconds (>0 only when arrived)."""
        while budget_s > 1e-9:
            north, east = offset_ne(self.lat, self.lon, target[0], target[1])
            up = target[2] - self.rel_alt
            horiz = math.hypot(north, east)
            dist = math.hypot(horiz, up)
            if dist < 1e-3:
                self.velocity = (0.0, 0.0, 0.0)
                return budget_s
            step = min(dist, self.speed * budget_s)
            if self.trigger_dist > 0 and horiz > 1e-6:
                step = min(step, (self.trigger_dist - self.since_shot) * dist / horiz)
            frac = step / dist
            self.lat, self.lon = displace(self.lat, self.lon, north * frac, east * frac)
            self.rel_alt += up * frac
            self.velocity = (north / dist * self.speed, east / dist * self.speed, up / dist * self.speed)
            budget_s -= step / self.speed
            if self.trigger_dist > 0:
                self.since_shot += horiz * frac
                if self.since_shot >= self.trigger_dist - 1e-6:
                    self.since_shot = 0.0
                    self._shot(events)
            if step >= dist - 1e-9:
                self.lat, self.lon, self.rel_alt = target
                return budget_s
        return 0.0

    def step(self, dt: float) -> list[FlightEvent]:
        """Advance ``dt`` simulated seconds; returns what happened, in order."""
        events: list[FlightEvent] = []
        budget = dt
        guard = 0
        while self.active and budget > 1e-9 and guard < 1000:
            guard += 1
            item = self.items[self.seq]
            if not has_position(item.command) and item.command != Cmd.NAV_RETURN_TO_LAUNCH:
                self._do_command(item, events)
                continue
            if self.hold_left > 0:
                used = min(self.hold_left, budget)
                self.hold_left -= used
                budget -= used
                if self.hold_left <= 0:
                    events.append(Reached(self.seq))
                    self._advance(events)
                continue
            budget = self._fly_to(self._target(item), budget, events)
            if budget <= 1e-9:
                break
            if item.command == Cmd.NAV_RETURN_TO_LAUNCH and self.rtl_phase == 0:
                self.rtl_phase = 1
                continue
            if item.command == Cmd.NAV_LOITER_TIME and item.param1 > 0 and self.hold_left == 0:
                self.hold_left = item.param1
                continue
            events.append(Reached(self.seq))
            landed = item.command in (Cmd.NAV_LAND, Cmd.NAV_RETURN_TO_LAUNCH)
            self._advance(events)
            if landed:
                self.active = False
                events.append(Landed())
        return events
