"""Check an SD card's captures before anything is uploaded, and derive the ODM options.

Every problem is collected and reported together (one line, ``; `` between them).
Checks: the folder holds MicaSense captures; each capture has all its bands with
readable, sane tags (the legacy 1/6329 s exposure tag is refused, see
:mod:`pipeline.ingest.captures.metadata`); a reflectance panel capture is found
(:mod:`pipeline.ingest.captures.panel`) or named with ``--panel``; at least two
usable captures; the ground sampling distance can be derived.

Bad captures (incomplete, unreadable, bad exposure tag): by default they are left
out and a warning names each with its reason; with ``strict`` the whole set is
refused, every bad capture listed. Nothing is uploaded when the set is refused.

GSD: ``gsd_cm = 100 · h / f_px`` with h the height above ground (capture GPS
altitude minus the ground altitude: ``--ground-alt``, else the panel capture's,
shot on the ground) and f_px the focal length in pixels (XMP
``PerspectiveFocalLength``); the median over the flight captures is used as
ODM's ``orthophoto-resolution`` (cm/px; ODM caps it at its own GSD estimate).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import InputError, PipelineError
from pipeline.ingest.captures.discover import CaptureGroup, discover_captures
from pipeline.ingest.captures.process import load_radiance

#: Captures searched for a panel when ``--panel`` is not given: this many at each end of the flight.
PANEL_SEARCH_EACH_END = 3
#: ODM's radiometric calibration when every image carries DLS irradiance, else camera-only.
CALIBRATION_WITH_DLS = "camera+sun"
CALIBRATION_CAMERA = "camera"


@dataclass(frozen=True)
class MosaicRequest:
    """What the user asked for (``shimanto mosaic`` options).

    Attributes:
        panel: Label (``IMG_0000``) or CaptureId of the panel capture; ``None``: detect it.
        ground_alt: Ground altitude (m, GPS datum) for the GSD; ``None``: the panel capture's altitude.
        resolution_cm: Orthophoto resolution, cm/px; ``None``: the flight's GSD.
        fast_orthophoto: ODM ``fast-orthophoto`` (no dense reconstruction, no DSM).
        strict: Refuse the whole set when any capture is bad (default: leave bad captures out, warn).
    """

    panel: str | None = None
    ground_alt: float | None = None
    resolution_cm: float | None = None
    fast_orthophoto: bool = False
    strict: bool = False


@dataclass(frozen=True)
class CaptureSet:
    """A checked set of captures, ready to upload.

    Attributes:
        root: The captures folder.
        captures: The usable captures, in label order.
        excluded: ``(label, reason)`` of every capture left out.
        panel: Label of the panel capture.
        gsd_cm: Median ground sampling distance of the flight captures, cm/px.
        dls: Whether every image carries downwelling-light-sensor irradiance.
        warnings: What the user should know (excluded captures...).
    """

    root: Path
    captures: tuple[CaptureGroup, ...]
    excluded: tuple[tuple[str, str], ...]
    panel: str
    gsd_cm: float
    dls: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def files(self) -> tuple[Path, ...]:
        """Every band image to upload, capture by capture."""
        return tuple(m.path for g in self.captures for m in g.bands)

    def odm_options(self, request: MosaicRequest) -> dict[str, Any]:
        """The ODM options of a multispectral survey (names as in ODM's ``--help``)."""
        options: dict[str, Any] = {
            "radiometric-calibration": CALIBRATION_WITH_DLS if self.dls else CALIBRATION_CAMERA,
            "orthophoto-resolution": round(request.resolution_cm or self.gsd_cm, 2),
        }
        if request.fast_orthophoto:
            options["fast-orthophoto"] = True
        else:
            options["dsm"] = True
        return options


def _panel_label(usable: Sequence[CaptureGroup], request: MosaicRequest, problems: list[str]) -> str | None:
    if request.panel is not None:
        hits = [g for g in usable if request.panel in (g.label, g.capture_id)]
        if not hits:
            known = ", ".join(g.label for g in usable) or "none"
            problems.append(f"--panel {request.panel!r} is not a usable capture (usable: {known})")
            return None
        return hits[0].label
    ordered = sorted(usable, key=lambda g: (g.bands[0].time_utc is None, g.bands[0].time_utc, g.label))
    ends = {g.label: g for g in (*ordered[:PANEL_SEARCH_EACH_END], *ordered[-PANEL_SEARCH_EACH_END:])}
    for group in ends.values():
        try:
            if load_radiance(group).has_panel:
                return group.label
        except PipelineError:
            continue
    problems.append(f"no reflectance panel capture found among the first and last {PANEL_SEARCH_EACH_END} "
                    "captures; name it with --panel IMG_XXXX")
    return None


def _gsd_cm(usable: Sequence[CaptureGroup], panel: str | None, request: MosaicRequest,
            problems: list[str]) -> float | None:
    if request.resolution_cm is not None:
        if not request.resolution_cm > 0:
            problems.append(f"--resolution-cm {request.resolution_cm} must be > 0 (cm per pixel)")
            return None
        return request.resolution_cm
    ground = request.ground_alt
    if ground is None and panel is not None:
        ground = next((g.bands[0].alt for g in usable if g.label == panel), None)
    if ground is None:
        problems.append("cannot derive the GSD: no --ground-alt and no panel capture altitude; "
                        "pass --ground-alt M or --resolution-cm CM")
        return None
    gsds = [100.0 * (g.bands[0].alt - ground) / g.bands[0].focal_length_px for g in usable
            if g.label != panel and g.bands[0].alt is not None and g.bands[0].focal_length_px > 0
            and g.bands[0].alt - ground > 1.0]
    if not gsds:
        problems.append(f"cannot derive the GSD: no flight capture is more than 1 m above the ground altitude "
                        f"{ground:.1f} m; pass --ground-alt M or --resolution-cm CM")
        return None
    return float(statistics.median(gsds))


def check_captures(root: Path | str, request: MosaicRequest | None = None) -> CaptureSet:
    """Check the captures under ``root`` (recursively); see the module doc.

    Raises:
        SceneNotFoundError: ``root`` does not exist.
        InputError: the set is unusable, every problem listed.
    """
    request = request or MosaicRequest()
    root = Path(root)
    groups = discover_captures(root)
    usable = [g for g in groups if g.ok]
    bad = [(g.label, "; ".join(g.problems)) for g in groups if not g.ok]
    problems: list[str] = []
    if request.strict:
        problems += [f"capture {label}: {reason}" for label, reason in bad]
    if len(usable) < 2:
        problems.append(f"{len(usable)} usable capture(s); OpenDroneMap needs at least 2 (plus a panel capture)")
    panel = _panel_label(usable, request, problems) if usable else None
    gsd = _gsd_cm(usable, panel, request, problems) if usable else None
    if problems or panel is None or gsd is None:
        raise InputError(f"captures {str(root)!r} refused, nothing uploaded: " + "; ".join(problems))
    warnings = [f"capture {label} left out: {reason}" for label, reason in bad]
    dls = all(m.dls_irradiance is not None or m.horizontal_irradiance is not None for g in usable for m in g.bands)
    if not dls:
        warnings.append("some images carry no DLS irradiance: ODM calibrates with the camera model only "
                        "(radiometric-calibration camera), not camera+sun")
    return CaptureSet(root, tuple(usable), tuple(bad), panel, gsd, dls, tuple(warnings))
