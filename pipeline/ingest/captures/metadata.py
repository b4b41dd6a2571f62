"""MicaSense band-image metadata: the XMP packet and EXIF tags, parsed without exiftool.

A MicaSense RedEdge/Altum frame is a 16-bit TIFF with

* an XMP packet in TIFF tag 700 holding the camera's own calibration
  (``MicaSense:RadiometricCalibration`` a1, a2, a3; ``MicaSense:DarkRowValue``;
  ``MicaSense:CaptureId``; ``Camera:BandName``, ``CentralWavelength``,
  ``WavelengthFWHM``, ``VignettingCenter``, ``VignettingPolynomial``,
  ``PrincipalPoint`` (mm), ``PerspectiveFocalLength`` (px, or mm when
  ``PerspectiveFocalLengthUnits`` says so), ``PerspectiveDistortion``
  (k1, k2, k3, p1, p2), ``Irradiance``; ``DLS:SpectralIrradiance``,
  ``DLS:Yaw/Pitch/Roll`` (radians); newer firmware also ``Camera:Yaw/Pitch/Roll``
  (degrees) and ``Camera:HorizontalIrradiance``);
* EXIF: ``ExposureTime`` (s), ``ISOSpeed`` (gain = ISO/100), ``BlackLevel``,
  ``FocalPlaneXResolution`` (px/mm), ``DateTimeOriginal`` + ``SubsecTime``, GPS.

XMP comes in two layouts (``rdf:Seq`` child elements from the camera, or
comma-separated attributes after an editor such as exiv2/GIMP rewrote it) and
with two Pix4D camera namespace URIs; both are read, keyed by
``Prefix:LocalName`` where the prefix is fixed by namespace family.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tifffile

from pipeline.errors import InputError, SceneNotFoundError

#: Namespace-URI fragment -> canonical prefix (checked in order).
_NAMESPACE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("micasense.com/DLS", "DLS"),
    ("micasense.com/MicaSense", "MicaSense"),
    ("pix4d.com", "Camera"),
    ("ns.adobe.com/tiff", "tiff"),
)
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
#: Legacy RedEdge firmware wrote this exposure (1/6329 s) regardless of the real one.
LEGACY_BAD_EXPOSURE_S = 1.0 / 6329.0


@dataclass(frozen=True)
class BandMeta:
    """Everything the radiometric model, the panel/DLS calibration and the georeferencing need.

    Attributes:
        path: The TIFF file.
        band_number: 1-based band number from the file name suffix (``_N.tif``),
            or ``rig_index + 1`` when the name has none.
        band_name: ``Camera:BandName`` (``Blue``, ``Green``, ``Red``, ``NIR``, ``Red edge``).
        centre_nm: Central wavelength, nm.
        fwhm_nm: Full width at half maximum, nm.
        capture_id: ``MicaSense:CaptureId`` (identical for the bands of one trigger).
        flight_id: ``MicaSense:FlightId``.
        make: EXIF Make.
        model: EXIF Model.
        firmware: TIFF Software tag.
        width: Image width, px.
        height: Image height, px.
        bits_per_pixel: Bits per sample (16).
        exposure_s: Exposure time, s.
        gain: Sensor gain = ISO / 100.
        black_level: Mean of EXIF BlackLevel, DN (``None`` when absent).
        dark_pixels: Mean of ``MicaSense:DarkRowValue``, DN (``None`` when absent).
        radiometric_cal: (a1, a2, a3) of the MicaSense radiometric model.
        vignette_centre: (x, y) of the vignetting centre, px.
        vignette_poly: Vignetting polynomial coefficients k0..k5 (ascending powers of r).
        focal_length_px: Focal length, px.
        principal_point_px: (cx, cy) principal point, px.
        distortion: (k1, k2, k3, p1, p2) Brown-Conrady coefficients.
        focal_plane_px_per_mm: Focal-plane resolution, px/mm.
        time_utc: Capture time (UTC, camera clock).
        lat: GPS latitude, degrees (``None`` without GPS).
        lon: GPS longitude, degrees.
        alt: GPS altitude above sea level, m.
        dls_irradiance: DLS spectral irradiance for this band, W/m²/nm (``None`` without DLS).
        horizontal_irradiance: ``Camera:HorizontalIrradiance`` when the DLS2 computed it.
        dls_pose_rad: DLS (yaw, pitch, roll), radians.
        camera_pose_deg: ``Camera:(Yaw, Pitch, Roll)``, degrees, when the firmware wrote it.
        xmp: Every XMP value read, keyed ``Prefix:Name`` (strings or lists of strings).
    """

    path: Path
    band_number: int
    band_name: str
    centre_nm: float
    fwhm_nm: float
    capture_id: str
    flight_id: str
    make: str
    model: str
    firmware: str
    width: int
    height: int
    bits_per_pixel: int
    exposure_s: float
    gain: float
    black_level: float | None
    dark_pixels: float | None
    radiometric_cal: tuple[float, float, float]
    vignette_centre: tuple[float, float]
    vignette_poly: tuple[float, ...]
    focal_length_px: float
    principal_point_px: tuple[float, float]
    distortion: tuple[float, ...]
    focal_plane_px_per_mm: float
    time_utc: dt.datetime | None
    lat: float | None
    lon: float | None
    alt: float | None
    dls_irradiance: float | None
    horizontal_irradiance: float | None
    dls_pose_rad: tuple[float, float, float] | None
    camera_pose_deg: tuple[float, float, float] | None
    xmp: Mapping[str, Any]

    @property
    def dark_level(self) -> float:
        """Dark level subtracted from raw DN: EXIF BlackLevel mean (MicaSense's choice), else dark-row mean."""
        if self.black_level is not None:
            return self.black_level
        return self.dark_pixels if self.dark_pixels is not None else 0.0

    @property
    def has_gps(self) -> bool:
        return self.lat is not None and self.lon is not None and self.alt is not None


def parse_xmp(packet: str | bytes) -> dict[str, Any]:
    """Parse an XMP packet into ``{"Prefix:Name": value}``.

    Sequence values (``rdf:Seq``/``rdf:Bag``) become lists of strings; attribute
    values stay strings (comma-separated lists are split by :func:`_floats`).

    Raises:
        InputError: the packet is not well-formed XML.
    """
    text = packet.decode("utf-8", errors="replace") if isinstance(packet, bytes) else packet
    start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        raise InputError("XMP packet has no <x:xmpmeta> element")
    root = ET.fromstring(text[start : end + len("</x:xmpmeta>")])
    out: dict[str, Any] = {}
    for desc in root.iter(f"{_RDF}Description"):
        for attr, value in desc.attrib.items():
            key = _key(attr)
            if key is not None:
                out[key] = value
        for child in desc:
            key = _key(child.tag)
            if key is None:
                continue
            items = [li.text or "" for li in child.iter(f"{_RDF}li")]
            out[key] = items if items else (child.text or "").strip()
    return out


def _key(qualified: str) -> str | None:
    if not qualified.startswith("{"):
        return None
    uri, local = qualified[1:].split("}", 1)
    for fragment, prefix in _NAMESPACE_PREFIXES:
        if fragment in uri:
            return f"{prefix}:{local}"
    return None


def _floats(value: Any) -> tuple[float, ...]:
    parts = value if isinstance(value, list) else re.split(r"[,\s]+", str(value).strip())
    return tuple(float(p) for p in parts if str(p).strip())


def _rational(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        return value[0] / value[1] if value[1] else math.nan
    return float(value)


def _dms(values: tuple[int, ...], ref: str) -> float:
    deg, minutes, sec = (values[i] / values[i + 1] for i in (0, 2, 4))
    sign = -1.0 if ref in ("S", "W") else 1.0
    return sign * (deg + minutes / 60.0 + sec / 3600.0)


def _capture_time(exif: Mapping[str, Any]) -> dt.datetime | None:
    stamp = exif.get("DateTimeOriginal")
    if not stamp:
        return None
    base = dt.datetime.strptime(str(stamp), "%Y:%m:%d %H:%M:%S").replace(tzinfo=dt.UTC)
    subsec = str(exif.get("SubsecTime", "") or "").strip()
    if subsec.lstrip("-").isdigit():
        frac = float("0." + subsec.lstrip("-"))
        base += dt.timedelta(seconds=-frac if subsec.startswith("-") else frac)
    return base


def _band_number_from_name(path: Path) -> int | None:
    m = re.search(r"_(\d+)$", path.stem)
    return int(m.group(1)) if m else None


def read_band_meta(path: Path | str) -> BandMeta:
    """Read and validate one MicaSense band TIFF's metadata.

    Raises:
        SceneNotFoundError: the file does not exist.
        InputError: not a readable TIFF, no MicaSense XMP, or any required value
            missing or invalid (every problem is listed, with the file name).
    """
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"MicaSense image {str(path)!r} does not exist; check the path")
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            tags = {t.code: t.value for t in page.tags.values()}  # type: ignore[union-attr]
    except Exception as exc:  # tifffile raises several types on corrupt files
        raise InputError(f"{str(path)!r} is not a readable TIFF ({exc}); expected a MicaSense band image") from exc
    problems: list[str] = []
    make = str(tags.get(271, "")).strip()
    if 700 not in tags:
        raise InputError(
            f"{str(path)!r} has no XMP metadata (TIFF tag 700; make {make or 'unknown'!r}); "
            "expected a raw MicaSense band image straight from the camera's SD card"
        )
    try:
        xmp = parse_xmp(tags[700])
    except (InputError, ET.ParseError) as exc:
        raise InputError(f"{str(path)!r}: unreadable XMP packet ({exc}); expected a MicaSense band image") from exc
    exif: Mapping[str, Any] = tags.get(34665) or {}
    gps: Mapping[str, Any] = tags.get(34853) or {}

    def need(key: str) -> Any:
        if key not in xmp:
            problems.append(f"XMP {key} is missing")
            return None
        return xmp[key]

    def floats(key: str, count: int | None = None) -> tuple[float, ...]:
        raw = need(key)
        if raw is None:
            return ()
        try:
            vals = _floats(raw)
        except ValueError:
            problems.append(f"XMP {key} = {raw!r} is not numeric")
            return ()
        if count is not None and len(vals) != count:
            problems.append(f"XMP {key} has {len(vals)} values, expected {count}")
            return ()
        return vals

    band_name = str(need("Camera:BandName") or "")
    centre = floats("Camera:CentralWavelength", 1)
    fwhm = floats("Camera:WavelengthFWHM", 1)
    capture_id = str(need("MicaSense:CaptureId") or "")
    cal = floats("MicaSense:RadiometricCalibration", 3)
    vc = floats("Camera:VignettingCenter", 2)
    vp = floats("Camera:VignettingPolynomial")
    dist = floats("Camera:PerspectiveDistortion", 5)
    pp_mm = floats("Camera:PrincipalPoint", 2)
    fl = floats("Camera:PerspectiveFocalLength", 1)

    exposure = _rational(exif["ExposureTime"]) if "ExposureTime" in exif else math.nan
    if not (math.isfinite(exposure) and exposure > 0):
        problems.append(f"EXIF ExposureTime {exif.get('ExposureTime')!r} is missing or not positive")
    elif abs(exposure - LEGACY_BAD_EXPOSURE_S) < 1e-6 and make == "MicaSense":
        problems.append(
            f"EXIF ExposureTime = {exposure:.6g} s (1/6329 s) is the known bad exposure tag of legacy RedEdge "
            "firmware, not the real exposure; update the camera firmware and re-fly, or drop this capture"
        )
    iso = exif.get("ISOSpeed", exif.get("ISOSpeedRatings"))
    gain = float(iso) / 100.0 if iso else math.nan
    if not (math.isfinite(gain) and gain > 0):
        problems.append(f"EXIF ISOSpeed {iso!r} is missing or not positive (gain = ISO/100)")
    fp_res = _rational(exif.get("FocalPlaneXResolution", (0, 1)))
    if not fp_res > 0:
        problems.append("EXIF FocalPlaneXResolution is missing (px/mm needed for the principal point)")
    bits = tags.get(258, 16)
    bits = int(bits[0] if isinstance(bits, tuple) else bits)
    black = tags.get(50714)
    black_level = sum(black) / len(black) if isinstance(black, tuple) and black else None
    dark = xmp.get("MicaSense:DarkRowValue")
    dark_pixels = sum(_floats(dark)) / len(_floats(dark)) if dark else None
    if black_level is None and dark_pixels is None:
        problems.append("neither EXIF BlackLevel nor XMP MicaSense:DarkRowValue is present (dark level unknown)")
    if problems:
        raise InputError(
            f"{str(path)!r} ({make or 'unknown make'} {tags.get(272, '')}) is not a usable MicaSense band image: "
            + "; ".join(problems)
        )

    units = str(xmp.get("Camera:PerspectiveFocalLengthUnits", "px")).strip().lower()
    focal_px = fl[0] * fp_res if units == "mm" else fl[0]
    lat = lon = alt = None
    if "GPSLatitude" in gps and "GPSLongitude" in gps:
        lat = _dms(gps["GPSLatitude"], str(gps.get("GPSLatitudeRef", "N")))
        lon = _dms(gps["GPSLongitude"], str(gps.get("GPSLongitudeRef", "E")))
        alt = _rational(gps.get("GPSAltitude", (0, 1))) * (-1.0 if gps.get("GPSAltitudeRef") == 1 else 1.0)
    irr = xmp.get("DLS:SpectralIrradiance", xmp.get("Camera:Irradiance"))
    horiz = xmp.get("Camera:HorizontalIrradiance")
    dls_pose = None
    if all(f"DLS:{k}" in xmp for k in ("Yaw", "Pitch", "Roll")):
        y, p, r = (float(xmp[f"DLS:{k}"]) for k in ("Yaw", "Pitch", "Roll"))
        dls_pose = (y, p, r)
    cam_pose = None
    if all(f"Camera:{k}" in xmp for k in ("Yaw", "Pitch", "Roll")):
        y, p, r = (float(xmp[f"Camera:{k}"]) for k in ("Yaw", "Pitch", "Roll"))
        cam_pose = (y, p, r)
    rig_index = int(float(xmp.get("Camera:RigCameraIndex", 0)))
    return BandMeta(
        path=path,
        band_number=_band_number_from_name(path) or rig_index + 1,
        band_name=band_name,
        centre_nm=centre[0],
        fwhm_nm=fwhm[0],
        capture_id=capture_id,
        flight_id=str(xmp.get("MicaSense:FlightId", "")),
        make=make,
        model=str(tags.get(272, "")).strip(),
        firmware=str(tags.get(305, "")).strip(),
        width=int(tags.get(256, 0)),
        height=int(tags.get(257, 0)),
        bits_per_pixel=bits,
        exposure_s=exposure,
        gain=gain,
        black_level=black_level,
        dark_pixels=dark_pixels,
        radiometric_cal=(cal[0], cal[1], cal[2]),
        vignette_centre=(vc[0], vc[1]),
        vignette_poly=vp,
        focal_length_px=focal_px,
        principal_point_px=(pp_mm[0] * fp_res, pp_mm[1] * fp_res),
        distortion=dist,
        focal_plane_px_per_mm=fp_res,
        time_utc=_capture_time(exif),
        lat=lat,
        lon=lon,
        alt=alt,
        dls_irradiance=float(irr) if irr not in (None, "") else None,
        horizontal_irradiance=float(horiz) if horiz not in (None, "") and float(horiz) > 0 else None,
        dls_pose_rad=dls_pose,
        camera_pose_deg=cam_pose,
        xmp=MappingProxyType(xmp),
    )
