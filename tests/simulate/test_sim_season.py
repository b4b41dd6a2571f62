"""Season planning over one site, other sensors, and spec defaults."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.simulate.season import disease_progress_on, season_specs
from pipeline.simulate.survey import SurveySpec, simulate_survey, site_layout


def test_spec_defaults_match_the_demo_and_training_settings():
    spec = SurveySpec(seed=1)
    assert (spec.hectares, spec.gsd_cm, spec.sensor) == (4.0, 10.0, "rededge-mx")
    assert spec.site_seed == 1 and SurveySpec(seed=1, layout_seed=5).site_seed == 5
    assert spec.when.utcoffset() == dt.timedelta(hours=9)
    assert spec.problems() == []


def test_season_keeps_the_site_and_spreads_disease():
    base = SurveySpec(seed=20, hectares=0.5, gsd_cm=20.0)
    dates = [dt.date(2026, 5, 20), dt.date(2026, 6, 10), dt.date(2026, 7, 1), dt.date(2026, 7, 20)]
    specs = season_specs(base, dates, onset=dt.date(2026, 6, 1), spread_days=30)
    assert [s.seed for s in specs] == [20, 21, 22, 23]
    assert {s.layout_seed for s in specs} == {20}
    assert [s.disease_progress for s in specs] == pytest.approx([0.0, 0.3, 1.0, 49 / 30])
    layouts = [site_layout(s) for s in specs]
    assert all(lay.fields == layouts[0].fields for lay in layouts)
    assert disease_progress_on(dt.date(2026, 12, 1), dt.date(2026, 6, 1), 30) == 2.0


def test_season_rejects_bad_plans():
    with pytest.raises(InputError) as info:
        season_specs(SurveySpec(seed=1), [dt.date(2026, 6, 1)] * 2, onset=dt.date(2026, 6, 1), spread_days=0)
    assert "repeat" in str(info.value) and "spread_days 0" in str(info.value)


def test_season_flights_grow_the_crop(make_survey):
    early = make_survey(seed=30, layout_seed=30, date=dt.date(2026, 5, 10), disease_progress=0.0)
    late = make_survey(seed=31, layout_seed=30, date=dt.date(2026, 7, 5), disease_progress=0.0)
    assert early.folder.fields.read_bytes() == late.folder.fields.read_bytes()
    for crop in ("rice", "ginger"):
        ndvi_early = np.nanmean(early.index("nir", "red")[early.crop_masks(crop)[0]])
        ndvi_late = np.nanmean(late.index("nir", "red")[late.crop_masks(crop)[0]])
        assert ndvi_early < ndvi_late, crop


def test_other_sensor_band_order(make_survey):
    p4m = make_survey(sensor="p4m", hectares=0.3, gsd_cm=25.0)
    assert p4m.descriptions == ("blue", "green", "red", "red_edge", "nir")
    assert p4m.tags["SENSOR"] == "p4m"
    healthy, _ = p4m.crop_masks("rice")
    assert np.nanmean(p4m.band["nir"][healthy]) > np.nanmean(p4m.band["red_edge"][healthy])


def test_too_small_site_is_refused():
    assert any("too small" in p for p in SurveySpec(seed=1, hectares=0.05).problems())


def test_bad_types_and_thermal_sensors_are_refused(tmp_path):
    assert any("datetime.date" in p for p in SurveySpec(seed=1, date="2026-07-01").problems())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="lwir"):
        simulate_survey(tmp_path / "x", SurveySpec(seed=1, hectares=0.2, gsd_cm=50, sensor="altum-pt"))
    assert not (tmp_path / "x").exists()


def test_flights_of_one_site_share_the_pixel_grid(make_survey):
    a = make_survey(seed=40, layout_seed=41, date=dt.date(2026, 6, 1))
    b = make_survey(seed=42, layout_seed=41, date=dt.date(2026, 7, 15), local_time=dt.time(14, 0))
    assert a.transform == b.transform and a.bands.shape == b.bands.shape
    assert np.array_equal(np.isnan(a.bands[0]), np.isnan(b.bands[0]))
