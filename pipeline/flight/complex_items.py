"""Expansion of QGroundControl complex items into simple mission items.

* ``survey`` / ``CorridorScan`` (TransectStyleComplexItem): QGC stores the
  generated items under ``TransectStyleComplexItem.Items``; they are read as
  they are (a file without them is refused: QGC itself would regenerate them
  from its camera settings, which a file alone cannot reproduce exactly).
* ``StructureScan``: QGC stores no items. They are regenerated the way QGC
  flies it: the structure polygon offset outward by the camera's distance to
  surface, one orbit per layer (layer height = structure height / layers,
  first layer at ``ScanBottomAlt`` + half a layer), camera triggering by
  distance (``AdjustedFootprintFrontal``) during each orbit, entrance and exit
  at ``EntranceAltitude``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shapely.geometry import Polygon

from pipeline.common.geo import WGS84, reproject_geometry, utm_crs_for
from pipeline.core.mission import Cmd, Frame, MissionItem
from pipeline.flight.errors import MissionFileError
from pipeline.flight.simple_items import parse_simple_item

#: Complex item versions this reader understands, per ``complexItemType``.
SUPPORTED_VERSIONS = {"survey": (3, 4, 5), "CorridorScan": (2, 3), "StructureScan": (2, 3)}


def _transect_items(doc: dict[str, Any], where: str) -> list[MissionItem]:
    transect = doc.get("TransectStyleComplexItem")
    if not isinstance(transect, dict):
        raise MissionFileError(f"{where}: {doc.get('complexItemType')} item has no TransectStyleComplexItem section")
    raw = transect.get("Items")
    if not isinstance(raw, list) or not raw:
        raise MissionFileError(
            f"{where}: {doc.get('complexItemType')} item has no generated 'Items'; "
            "re-save the plan from QGroundControl so that it stores the survey's mission items"
        )
    return [parse_simple_item(item, f"{where} item {j}") for j, item in enumerate(raw)]


def _structure_scan_items(doc: dict[str, Any], where: str) -> list[MissionItem]:
    try:
        calc = doc["CameraCalc"]
        distance = float(calc["DistanceToSurface"])
        trigger = float(calc["AdjustedFootprintFrontal"])
        layers = int(doc["Layers"])
        height = float(doc["StructureHeight"])
        bottom = float(doc["ScanBottomAlt"])
        entrance = float(doc["EntranceAltitude"])
        latlon = [(float(a), float(b)) for a, b in doc["polygon"]]
        from_top = bool(doc.get("StartFromTop", False))
    except (KeyError, TypeError, ValueError) as exc:
        raise MissionFileError(f"{where}: malformed StructureScan item ({exc!r})") from exc
    if len(latlon) < 3 or layers < 1:
        raise MissionFileError(f"{where}: StructureScan needs a polygon of 3+ vertices and 1+ layers")
    structure = Polygon([(lon, lat) for lat, lon in latlon])
    crs = utm_crs_for(structure.centroid.x, structure.centroid.y)
    local = reproject_geometry(structure, WGS84, crs)
    orbit = reproject_geometry(local.buffer(distance, join_style="mitre"), crs, WGS84)
    ring = list(orbit.exterior.coords)  # closed ring: first == last
    layer_h = height / layers
    alts = [bottom + layer_h * (k + 0.5) for k in range(layers)]
    if from_top:
        alts.reverse()
    rel = int(Frame.GLOBAL_RELATIVE_ALT)
    items = [MissionItem(int(Cmd.NAV_WAYPOINT), rel, lat=ring[0][1], lon=ring[0][0], alt=entrance)]
    for alt in alts:
        items.append(MissionItem(int(Cmd.NAV_WAYPOINT), rel, lat=ring[0][1], lon=ring[0][0], alt=alt))
        items.append(MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (trigger, 0.0, 1.0, 0.0)))
        items.extend(MissionItem(int(Cmd.NAV_WAYPOINT), rel, lat=y, lon=x, alt=alt) for x, y in ring[1:])
        items.append(MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (0.0, 0.0, 0.0, 0.0)))
    items.append(MissionItem(int(Cmd.NAV_WAYPOINT), rel, lat=ring[0][1], lon=ring[0][0], alt=entrance))
    return items


_EXPANDERS: dict[str, Callable[[dict[str, Any], str], list[MissionItem]]] = {
    "survey": _transect_items,
    "CorridorScan": _transect_items,
    "StructureScan": _structure_scan_items,
}


def expand_complex_item(doc: dict[str, Any], where: str) -> list[MissionItem]:
    """Simple mission items of one QGC ``ComplexItem``.

    Raises:
        MissionFileError: unknown complex type, unsupported version, or missing/malformed content.
    """
    kind = doc.get("complexItemType")
    if kind not in _EXPANDERS:
        raise MissionFileError(f"{where}: complex item type {kind!r} is not supported; expected one of "
                               f"{', '.join(_EXPANDERS)}")
    version = doc.get("version")
    if version not in SUPPORTED_VERSIONS[str(kind)]:
        raise MissionFileError(f"{where}: {kind} item version {version!r} is not supported; expected one of "
                               f"{SUPPORTED_VERSIONS[str(kind)]}")
    return _EXPANDERS[str(kind)](doc, where)
