"""Camera registry, custom camera files and CameraCalc numbers."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError, InputError, UnknownNameError
from pipeline.flight.camcalc import altitude_for_gsd, footprint_m, grid_geometry, gsd_cm, max_speed_m_s
from pipeline.flight.cameras import CAMERAS, get_camera, load_camera_file, resolve_camera

ALL = ("rededge-mx", "rededge-p", "altum-pt", "p4m", "m3m", "h20t-wide", "h20t-thermal", "m3t-wide", "m3t-thermal")


def test_registry_holds_survey_and_search_cameras() -> None:
    assert set(ALL) <= set(CAMERAS)
    assert get_camera("H20T-Thermal").thermal and not get_camera("h20t-wide").thermal
    assert "lwir" in get_camera("altum-pt").bands


def test_unknown_camera_lists_choices() -> None:
    with pytest.raises(UnknownNameError, match="rededge-mx") as err:
        get_camera("rededge-x")
    assert "rededge-x" in str(err.value)


@pytest.mark.parametrize(("name", "altitude", "expected_cm"), [
    ("rededge-mx", 120.0, 8.33),  # MicaSense: 8 cm/px at 120 m
    ("altum-pt", 120.0, 5.18),  # MicaSense: 5.2 cm/px at 120 m
    ("p4m", 100.0, 100.0 / 18.9),  # DJI: GSD = H/18.9
    ("m3m", 100.0, 100.0 / 21.6),  # DJI: GSD = H/21.6
])
def test_gsd_matches_maker_figures(name: str, altitude: float, expected_cm: float) -> None:
    assert gsd_cm(get_camera(name), altitude) == pytest.approx(expected_cm, rel=0.02)


def test_cameracalc_formulas_rededge_mx() -> None:
    cam = get_camera("rededge-mx")
    # GSD = Sw*H*100/(f*Iw) = 4.8*72*100/(5.4*1280) = 5.0 cm/px
    assert altitude_for_gsd(cam, 5.0) == pytest.approx(72.0)
    g = grid_geometry(cam, 0.75, 0.70, gsd_cm_px=5.0)
    assert g.altitude_m == pytest.approx(72.0)
    assert (g.footprint_side_m, g.footprint_front_m) == pytest.approx((64.0, 48.0))
    assert g.lane_spacing_m == pytest.approx(64.0 * 0.30)
    assert g.trigger_distance_m == pytest.approx(48.0 * 0.25)
    portrait = grid_geometry(cam, 0.75, 0.70, altitude_m=72.0, orientation="portrait")
    assert (portrait.footprint_side_m, portrait.footprint_front_m) == pytest.approx((48.0, 64.0))
    assert footprint_m(cam, 72.0, "portrait") == pytest.approx((48.0, 64.0))
    # capture rate: 12 m / 1 s; blur: 0.5 px * 5 cm / 2 ms = 12.5 m/s
    assert max_speed_m_s(g, cam.min_trigger_interval_s, 0.002) == pytest.approx(12.0)
    assert max_speed_m_s(g, cam.min_trigger_interval_s, 0.004) == pytest.approx(6.25)


def test_grid_geometry_reports_every_bad_input() -> None:
    with pytest.raises(InputError) as err:
        grid_geometry(get_camera("p4m"), 1.2, -0.1)
    msg = str(err.value)
    assert "front overlap" in msg and "side overlap" in msg and "exactly one of altitude" in msg


def test_custom_camera_file(tmp_path) -> None:
    good = tmp_path / "cam.yaml"
    good.write_text("name: my-cam\nsensor_width_mm: 6.3\nsensor_height_mm: 4.7\nimage_width_px: 4000\n"
                    "image_height_px: 3000\nfocal_length_mm: 5.0\nmin_trigger_interval_s: 1.5\nbands: [red, nir]\n")
    cam = resolve_camera(str(good))
    assert cam.name == "my-cam" and cam.bands == ("red", "nir")
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "sensor_width_mm": -1, "image_width_px": 12.5, "focal_length_mm": 0, "zoom": 3}')
    with pytest.raises(ConfigError) as err:
        load_camera_file(bad)
    msg = str(err.value)
    for expected in ("sensor_width_mm", "image_width_px", "focal_length_mm", "zoom", "missing field 'sensor_height_mm'",
                     "min_trigger_interval_s"):
        assert expected in msg
