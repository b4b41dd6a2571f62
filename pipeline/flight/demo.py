"""Demo stage ``flight_plan``: plan the survey of the simulator's synthetic fields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.config import section
from pipeline.core.io import read_survey_meta
from pipeline.core.survey import SurveyFolder
from pipeline.demo import DemoContext
from pipeline.errors import SafetyLimitError
from pipeline.flight.battery import Battery
from pipeline.flight.cameras import get_camera
from pipeline.flight.checks import CheckSettings, has_errors
from pipeline.flight.config import FlightParams
from pipeline.flight.outputs import write_survey_outputs
from pipeline.flight.planner import SurveyRequest, plan_survey
from pipeline.flight.route import Kinematics

DEMO_NAME = "survey"


def run(ctx: DemoContext) -> list[Path]:
    """Plan ``ctx.out/survey/fields.geojson`` (RedEdge-MX, GSD 5 cm, 75/70 overlap) into ``flight_plan/``."""
    from pipeline.flight.boundary import read_boundary

    cfg = section(FlightParams, ctx.params.get("flight"), "flight")
    survey = SurveyFolder(ctx.out / "survey")  # only the fields (and survey.json date) are needed
    raw = read_survey_meta(survey).get("date")
    flight_date = dt.date.fromisoformat(raw) if isinstance(raw, str) else None
    req = SurveyRequest(
        camera=get_camera("rededge-mx"), front_overlap=0.75, side_overlap=0.70, gsd_cm=5.0,
        max_speed_m_s=cfg.max_speed_m_s, exposure_s=cfg.exposure_s, turnaround_m=cfg.turnaround_m,
        kinematics=Kinematics(cfg.max_speed_m_s, cfg.climb_m_s, cfg.accel_m_s2, cfg.yaw_s),
        battery=Battery(cfg.battery_endurance_s, cfg.battery_reserve),
        checks=CheckSettings(cfg.max_agl_m, cfg.max_distance_m, False, cfg.min_sun_elevation_deg, flight_date,
                             dt.time(10, 0) if flight_date else None),
    )
    plan = plan_survey(read_boundary(survey.fields), req)
    if has_errors(list(plan.issues)):
        raise SafetyLimitError("demo survey plan breaks a hard limit: "
                               + "; ".join(i.message for i in plan.issues if i.severity == "error"))
    return write_survey_outputs(plan, ctx.stage_dir("flight_plan"), DEMO_NAME)
