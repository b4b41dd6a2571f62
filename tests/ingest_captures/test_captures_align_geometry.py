"""Band registration and flat-ground georeferencing, on synthetic frames with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from pipeline.errors import GeoreferenceError, InputError
from pipeline.ingest.captures.align import align_bands, estimate_shift, valid_rectangle
from pipeline.ingest.captures.geometry import CameraView, footprint, ground_offsets, pixel_transform


def scene(seed: int = 1, shape: tuple[int, int] = (240, 320)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.random(shape), 3.0)


def test_estimate_shift_recovers_a_known_offset_even_with_inverted_contrast() -> None:
    ref = scene()
    moved = ndimage.shift(ref, (-4.0, 7.0), order=1, mode="nearest")
    dy, dx = estimate_shift(ref, 1.0 - moved)  # NIR-vs-red style contrast flip
    assert (dy, dx) == pytest.approx((4.0, -7.0), abs=0.3)


def test_align_bands_crops_to_common_area() -> None:
    ref = scene(2)
    bands = [ndimage.shift(ref, s, order=1, mode="nearest") for s in ((0, 0), (3, -5), (-2, 6))]
    stack, shifts, (r0, c0, r1, c1) = align_bands(bands, reference=0)
    assert stack.shape == (3, r1 - r0, c1 - c0) and stack.dtype == np.float32
    assert shifts[1] == pytest.approx((-3, 5), abs=0.3) and shifts[2] == pytest.approx((2, -6), abs=0.3)
    assert np.isfinite(stack).all()
    assert (r1 - r0, c1 - c0) >= (230, 305)
    np.testing.assert_allclose(stack[1][10:-10, 10:-10], stack[0][10:-10, 10:-10], atol=0.02)


def test_align_bands_refuses_unrelated_images() -> None:
    with pytest.raises(InputError, match="differ in size"):
        align_bands([scene(), scene(shape=(100, 100))], 0)


def test_valid_rectangle() -> None:
    valid = np.ones((50, 60), bool)
    valid[:4] = False
    valid[:, 55:] = False
    valid[30, 2] = False
    r0, c0, r1, c1 = valid_rectangle(valid)
    assert valid[r0:r1, c0:c1].all() and r0 >= 4 and c1 <= 55
    assert (r1 - r0) * (c1 - c0) > 0.6 * valid.size


def view(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, height: float = 100.0) -> CameraView:
    return CameraView(33.2, 132.9, height, (yaw, pitch, roll), "test", 1000.0, (640.0, 480.0))


def test_nadir_footprint_matches_the_field_of_view() -> None:
    poly = footprint(view(), 1280, 960)
    minx, miny, maxx, maxy = poly.bounds
    # width on the ground = h * sensor width / f = 100 * 1280 / 1000
    assert maxx - minx == pytest.approx(128.0, rel=1e-3)
    assert maxy - miny == pytest.approx(96.0, rel=1e-3)
    assert poly.area == pytest.approx(128.0 * 96.0, rel=1e-3)


def test_yaw_rotates_and_pitch_shifts_the_footprint() -> None:
    north, east = ground_offsets(view(), np.array([640.0]), np.array([0.0]))  # top centre pixel
    assert north[0] == pytest.approx(48.0) and east[0] == pytest.approx(0.0, abs=1e-9)  # image top = nose = north
    north, east = ground_offsets(view(yaw=math.pi / 2), np.array([640.0]), np.array([0.0]))
    assert east[0] == pytest.approx(48.0) and north[0] == pytest.approx(0.0, abs=1e-9)  # heading east
    north, _ = ground_offsets(view(pitch=math.radians(10)), np.array([640.0]), np.array([480.0]))
    assert north[0] == pytest.approx(100.0 * math.tan(math.radians(10)))  # nose up: centre ray ahead
    with pytest.raises(GeoreferenceError, match="horizon"):
        ground_offsets(view(pitch=math.radians(80)), np.array([640.0]), np.array([0.0]))


def test_pixel_transform_is_exact_for_nadir_view() -> None:
    v = view(yaw=math.radians(30))
    transform = pixel_transform(v, 1280, 960)
    assert math.hypot(transform.a, transform.d) == pytest.approx(0.1, rel=1e-6)  # GSD = h / f
    corners = footprint(v, 1280, 960, steps=1)
    for (col, row), (x, y) in zip(((0, 0), (1280, 0), (1280, 960), (0, 960)), list(corners.exterior.coords)[:4],
                                  strict=True):
        assert transform @ (col, row) == pytest.approx((x, y), abs=1e-3)  # 1 mm
