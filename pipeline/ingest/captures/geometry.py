"""Approximate georeferencing of a single frame: pixel rays onto flat ground.

Assumptions (stated, not hidden):

* flat ground at ``ground_alt`` metres (same datum as the GPS altitude); height
  above ground h = GPS altitude − ground_alt;
* pinhole camera after undistortion, focal length f (px), principal point (cx, cy);
* the camera looks straight down the aircraft's body z axis with the image top
  towards the nose: a pixel (u, v) has body-frame ray
  d_b = (−(v − cy)/f, (u − cx)/f, 1)  (x forward, y right, z down);
* attitude = ``Camera:Yaw/Pitch/Roll`` (degrees) when the firmware wrote it,
  else the DLS's ``Yaw/Pitch/Roll`` (radians; the DLS sits on the airframe),
  else level and north-up; d_NED = Rz(yaw)·Ry(pitch)·Rx(roll)·d_b;
* the ray meets the ground at (north, east) = h · (d_N, d_E) / d_D, added to the
  GPS position projected in the local UTM zone (grid convergence ignored).

The frame's footprint is the polygon of its border rays; its GeoTIFF transform
is the least-squares affine fit of a 5x5 grid of pixel corners to their ground
points (exact for a nadir view, approximate under tilt).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer
from rasterio.transform import Affine
from shapely.geometry import Polygon

from pipeline.common.geo import utm_crs_for
from pipeline.errors import GeoreferenceError
from pipeline.ingest.captures.dls import body_to_ned
from pipeline.ingest.captures.metadata import BandMeta

#: Rays flatter than this (|d_D| / |d|) never reach the ground in a sensible distance.
MIN_RAY_DOWN = 0.2
#: Height used when a frame sits at or below the assumed ground (panel shots taken by hand).
MIN_HEIGHT_M = 1.0


@dataclass(frozen=True)
class CameraView:
    """Where one frame was taken from and how it looks.

    Attributes:
        lat: Latitude, degrees.
        lon: Longitude, degrees.
        height_m: Height above the flat ground, m.
        pose_rad: (yaw, pitch, roll), radians.
        pose_source: ``"camera"``, ``"dls"`` or ``"assumed level"``.
        focal_px: Focal length, px.
        principal_px: (cx, cy), px.
    """

    lat: float
    lon: float
    height_m: float
    pose_rad: tuple[float, float, float]
    pose_source: str
    focal_px: float
    principal_px: tuple[float, float]

    @property
    def crs(self) -> CRS:
        """The local WGS84 UTM zone."""
        return utm_crs_for(self.lon, self.lat)


def camera_view(meta: BandMeta, ground_alt: float) -> CameraView:
    """Build the :class:`CameraView` of a band image.

    Raises:
        GeoreferenceError: the image has no GPS position.
    """
    if not meta.has_gps:
        raise GeoreferenceError(f"{str(meta.path)!r} has no GPS position; it cannot be georeferenced")
    if meta.camera_pose_deg is not None:
        pose = tuple(math.radians(a) for a in meta.camera_pose_deg)
        source = "camera"
    elif meta.dls_pose_rad is not None:
        pose, source = meta.dls_pose_rad, "dls"
    else:
        pose, source = (0.0, 0.0, 0.0), "assumed level"
    assert meta.alt is not None and meta.lat is not None and meta.lon is not None
    return CameraView(meta.lat, meta.lon, max(meta.alt - ground_alt, MIN_HEIGHT_M), (pose[0], pose[1], pose[2]),
                      source, meta.focal_length_px, meta.principal_point_px)


def ground_offsets(view: CameraView, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(north, east) ground offsets in metres from the camera's nadir point for pixels (u, v).

    Raises:
        GeoreferenceError: a ray points at or above the horizon.
    """
    cx, cy = view.principal_px
    rays = np.stack([-(v - cy) / view.focal_px, (u - cx) / view.focal_px, np.ones_like(u, dtype=float)])
    ned = body_to_ned(*view.pose_rad) @ rays.reshape(3, -1)
    down = ned[2] / np.linalg.norm(ned, axis=0)
    if np.any(down < MIN_RAY_DOWN):
        raise GeoreferenceError(
            f"camera attitude (yaw, pitch, roll) = {tuple(round(math.degrees(a), 1) for a in view.pose_rad)} deg "
            "looks at or near the horizon; the flat-ground footprint is undefined"
        )
    scale = view.height_m / ned[2]
    return (ned[0] * scale).reshape(u.shape), (ned[1] * scale).reshape(u.shape)


def _origin(view: CameraView) -> tuple[float, float]:
    to_utm = Transformer.from_crs(4326, view.crs, always_xy=True)
    easting, northing = to_utm.transform(view.lon, view.lat)
    return float(easting), float(northing)


def footprint(view: CameraView, width: int, height: int, offset: tuple[int, int] = (0, 0), steps: int = 8) -> Polygon:
    """Ground footprint polygon (local UTM) of a ``width`` x ``height`` image whose pixel (0, 0) is ``offset``.

    ``offset`` = (row0, col0) of a crop window in the original frame.
    """
    t = np.linspace(0.0, 1.0, steps, endpoint=False)
    w, h = float(width), float(height)
    cols = np.concatenate([t * w, np.full(steps, w), w - t * w, np.zeros(steps)]) - 0.5 + offset[1]
    rows = np.concatenate([np.zeros(steps), t * h, np.full(steps, h), h - t * h]) - 0.5 + offset[0]
    north, east = ground_offsets(view, cols, rows)
    e0, n0 = _origin(view)
    return Polygon(zip(e0 + east, n0 + north, strict=True))


def pixel_transform(view: CameraView, width: int, height: int, offset: tuple[int, int] = (0, 0)) -> Affine:
    """Least-squares affine (pixel corner -> local UTM) for an image whose pixel (0, 0) is ``offset`` (row0, col0)."""
    grid_c, grid_r = np.meshgrid(np.linspace(0, width, 5), np.linspace(0, height, 5))
    north, east = ground_offsets(view, grid_c - 0.5 + offset[1], grid_r - 0.5 + offset[0])
    e0, n0 = _origin(view)
    design = np.column_stack([grid_c.ravel(), grid_r.ravel(), np.ones(grid_c.size)])
    (a, b, c), *_ = np.linalg.lstsq(design, e0 + east.ravel(), rcond=None)
    (d, e, f), *_ = np.linalg.lstsq(design, n0 + north.ravel(), rcond=None)
    return Affine(float(a), float(b), float(c), float(d), float(e), float(f))
