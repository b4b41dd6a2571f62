"""Site layout (no raster): fields, footprint and disease patches over seeds and sizes."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.simulate.canopy import diseases_of
from pipeline.simulate.layout import build_layout

CENTRE = (326_700.0, 3_674_900.0)


@pytest.mark.parametrize("hectares", [0.2, 0.5, 4.0, 12.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_layout_invariants(seed, hectares):
    layout = build_layout(seed, hectares, CENTRE, 2026)
    assert layout.footprint.is_valid
    assert layout.footprint.area / 1e4 == pytest.approx(hectares, rel=0.15)
    assert len(layout.fields) >= 6
    assert {f.crop for f in layout.fields} == {"rice", "ginger"}
    assert sum(not f.open_data for f in layout.fields) == 1
    fields = {f.field_id: f for f in layout.fields}
    for field in layout.fields:
        assert field.geometry.is_valid and layout.footprint.contains(field.geometry)
    for a in layout.fields:
        for b in layout.fields:
            if a.field_id < b.field_id:
                assert a.geometry.intersection(b.geometry).area < 1e-6
    for crop in ("rice", "ginger"):
        crop_fields = {f.field_id for f in layout.fields if f.crop == crop}
        sick = {p.field_id for p in layout.patches if p.crop == crop}
        assert sick and sick < crop_fields  # some diseased, at least one healthy
        assert {p.disease for p in layout.patches if p.crop == crop} <= set(diseases_of(crop))
    outlines = []
    for patch in layout.patches:
        outline = patch.outline(1.0, fields[patch.field_id].geometry)
        assert outline is not None and fields[patch.field_id].geometry.buffer(1e-6).contains(outline)
        outlines.append((outline, patch.disease))
    for i, (a, da) in enumerate(outlines):  # different diseases never share ground at nominal progress
        assert all(a.intersection(b).area < 1e-6 for b, db in outlines[i + 1:] if db != da)


def test_default_patch_sizes_span_a_few_to_hundreds_of_square_metres():
    areas = []
    for seed in range(4):
        layout = build_layout(seed, 4.0, CENTRE, 2026)
        fields = {f.field_id: f for f in layout.fields}
        areas += [p.outline(1.0, fields[p.field_id].geometry).area for p in layout.patches]
        per_field = np.bincount([int(p.field_id[1:]) for p in layout.patches])
        assert per_field.max() >= 3
    assert min(areas) < 8 and max(areas) > 150
    assert {p.disease for seed in range(4) for p in build_layout(seed, 4.0, CENTRE, 2026).patches} == {
        *diseases_of("rice"), *diseases_of("ginger")}


def test_layout_depends_only_on_its_seed():
    a, b = build_layout(9, 1.0, CENTRE, 2026), build_layout(9, 1.0, CENTRE, 2026)
    assert a == b
    c = build_layout(10, 1.0, CENTRE, 2026)
    assert [f.geometry.wkt for f in a.fields] != [f.geometry.wkt for f in c.fields]


def test_patches_grow_monotonically_with_progress():
    layout = build_layout(3, 1.0, CENTRE, 2026)
    fields = {f.field_id: f for f in layout.fields}
    for patch in layout.patches:
        clip = fields[patch.field_id].geometry
        sizes = [patch.outline(p, clip) for p in (0.0, 0.2, 0.5, 1.0, 2.0)]
        areas = [0.0 if s is None else s.area for s in sizes]
        assert areas[0] == 0.0
        assert areas == sorted(areas)
        if patch.onset == 0.0:
            assert areas[1] > 0  # origins are there from the start
