"""Property tests: any valid field is covered by the photos of its mission; no waypoint over 150 m."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from pipeline.common.geo import WGS84, reproject_geometry
from pipeline.flight.boundary import Area, Boundary
from pipeline.flight.cameras import get_camera
from pipeline.flight.checks import CheckSettings, agl_of, build_context
from pipeline.flight.coverage import coverage_fraction, photos_from_mission
from pipeline.flight.planner import SurveyRequest, plan_survey
from pipeline.testing.flight_fields import irregular_field_m, local_to_lonlat


@settings(max_examples=30, derandomize=True, deadline=None)
@given(seed=st.integers(0, 10_000), gsd=st.floats(2.0, 8.0), front=st.floats(0.6, 0.85), side=st.floats(0.55, 0.8),
       camera=st.sampled_from(["rededge-mx", "altum-pt", "p4m", "m3m"]),
       angle=st.one_of(st.none(), st.floats(0.0, 179.0)))
def test_any_field_is_covered_and_legal(seed: int, gsd: float, front: float, side: float, camera: str,
                                        angle: float | None) -> None:
    field_m = irregular_field_m(np.random.default_rng(seed), r_min=30.0, r_max=150.0)
    field_ll = Polygon(local_to_lonlat(list(field_m.exterior.coords)))
    cam = get_camera(camera)
    plan = plan_survey(Boundary((Area("f", field_ll),)),
                       SurveyRequest(cam, front_overlap=front, side_overlap=side, gsd_cm=gsd, angle_deg=angle))
    if plan.geometry.altitude_m > 150.0:
        assert any(i.code == "agl-limit" and i.severity == "error" for i in plan.issues)
        return
    # photo centres re-derived from the mission items alone (not from the planner's own segments)
    photos = photos_from_mission(plan.mission, plan.crs)
    area = reproject_geometry(field_ll, WGS84, plan.crs)
    g = plan.geometry
    assert coverage_fraction(area, photos, g.footprint_side_m, g.footprint_front_m) >= 0.995
    ctx = build_context(plan.mission, CheckSettings())
    assert all(agl_of(ctx, x, y, a, f) <= 150.0 for _, x, y, a, f in ctx.nav)
