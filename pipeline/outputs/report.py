"""``shimanto report``: one Japanese PDF per grower, with field maps, KML and GeoJSON.

Output folder layout (``<slug>`` = :func:`~pipeline.outputs.exports.grower_slug`)::

    OUT/<slug>.pdf                 cover page + one page per field
    OUT/<slug>.kml, <slug>.geojson areas of concern and scouting points
    OUT/<slug>_<field>.png         field maps
    OUT/<slug>_overview.png        all of the grower's fields (cover page)
    OUT/summary.json               per-field figures, read back by a later run's --history

Files are built in a temporary folder and moved into ``OUT`` only when every report succeeded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shapely.ops import unary_union

from pipeline.common.atomic import atomic_write_json, claim_output_folder
from pipeline.common.progress import progress_task
from pipeline.core.fields import Field
from pipeline.core.io import FlightFields, load_flight_fields
from pipeline.errors import InputError, unknown_name
from pipeline.outputs.analysis import FieldSummary, read_index_window, summarise_field
from pipeline.outputs.config import ReportConfig
from pipeline.outputs.exports import field_slug, grower_slug, write_kml, write_scouting_geojson
from pipeline.outputs.fieldmap import render_field_map, render_overview
from pipeline.outputs.inputs import Hotspot, load_hotspots, require_dir
from pipeline.outputs.pdf import Change, write_report_pdf
from pipeline.outputs.scoutfile import ScoutingInput, load_scouting
from pipeline.outputs.wording import format_date, model_note, page_note

log = logging.getLogger(__name__)
SUMMARY_NAME = "summary.json"
UNKNOWN_GROWER = "生産者名なし"


def group_by_grower(fields: Sequence[Field]) -> dict[str, list[Field]]:
    """Fields per grower name (fields without a name go under :data:`UNKNOWN_GROWER`), sorted by ID."""
    groups: dict[str, list[Field]] = defaultdict(list)
    for f in fields:
        groups[f.grower or UNKNOWN_GROWER].append(f)
    return {g: sorted(fs, key=lambda f: f.field_id) for g, fs in sorted(groups.items())}


def load_history(dirs: Sequence[Path], before: str) -> dict[str, Change]:
    """Latest earlier figures per field from previous report folders' ``summary.json``.

    Args:
        dirs: Earlier ``shimanto report`` output folders.
        before: ISO date of the current flight; only earlier flights count.

    Raises:
        InputError: a folder has no readable ``summary.json``.
    """
    best: dict[str, tuple[str, dict[str, Any]]] = {}
    for d in dirs:
        path = Path(d) / SUMMARY_NAME
        if not path.is_file():
            raise InputError(
                f"history folder {str(d)!r} has no {SUMMARY_NAME}; pass an earlier 'shimanto report' output folder"
            )
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            date, fields = str(doc["date"]), dict(doc["fields"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"{str(path)!r} is not a report summary ({exc}); regenerate it with 'shimanto report'"
            ) from exc
        if date >= before:
            continue
        for fid, figures in fields.items():
            if fid not in best or best[fid][0] < date:
                best[fid] = (date, figures)
    return {
        fid: Change(
            previous_date=format_date(_iso_date(date)),
            index=str(fig.get("index", "ndvi")),
            index_before=fig.get("index_mean"),
            concern_before_m2=float(fig.get("concern_m2", 0.0)),
        )
        for fid, (date, fig) in best.items()
    }


def history_points(dirs: Sequence[Path], before: str) -> dict[str, list[tuple[str, str, float]]]:
    """field_id → ``[(ISO date, index, field mean)]`` from earlier report folders (dates before ``before``).

    Call after :func:`load_history`, which validates the summaries.
    """
    points: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    for d in dirs:
        doc = json.loads((Path(d) / SUMMARY_NAME).read_text(encoding="utf-8"))
        if str(doc["date"]) >= before:
            continue
        for fid, fig in dict(doc["fields"]).items():
            if fig.get("index_mean") is not None:
                points[fid].append((str(doc["date"])[:10], str(fig.get("index", "ndvi")), float(fig["index_mean"])))
    return points


def _trend_charts(work: Path, slug: str, flight: FlightFields, summaries: Sequence[FieldSummary],
                  points: dict[str, list[tuple[str, str, float]]]) -> dict[str, Path]:
    """Per field with history: the index over earlier flights and this one, with the forecast band."""
    import datetime as dt

    from pipeline.analysis.timeseries import history_chart

    charts: dict[str, Path] = {}
    for s in summaries:
        fid = s.field.field_id
        by_date = {dt.date.fromisoformat(d): v for d, index, v in points.get(fid, []) if index == s.index}
        if not by_date or s.index_mean is None:
            continue
        by_date[flight.date] = float(s.index_mean)
        charts[fid] = history_chart(fid, s.index, sorted(by_date.items()),
                                    work / f"{slug}_{field_slug(fid)}_trend.png")
    return charts


def _iso_date(text: str) -> object:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return text


def _grower_report(
    work: Path, flight: FlightFields, grower: str, fields: list[Field], spots: dict[str, list[Hotspot]],
    indices_dir: Path, changes: dict[str, Change], cfg: ReportConfig,
    points: dict[str, list[tuple[str, str, float]]] | None = None,
    scouting: ScoutingInput | None = None,
) -> tuple[list[Path], list[FieldSummary]]:
    slug = grower_slug(grower)
    summaries: list[FieldSummary] = []
    pngs: dict[str, Path] = {}
    for field in fields:
        summary, window = summarise_field(flight, field, spots.get(field.field_id, []), indices_dir, cfg, scouting)
        summaries.append(summary)
        pngs[field.field_id] = render_field_map(
            summary, window, flight.crs, work / f"{slug}_{field_slug(field.field_id)}.png", cfg.dpi
        )
    union = unary_union([f.geometry for f in fields])
    background = read_index_window(indices_dir, flight.survey.scene, "ndvi", union, flight.crs, 20.0)
    overview = render_overview(summaries, background, flight.crs, work / f"{slug}_overview.png", cfg.dpi)
    trends = _trend_charts(work, slug, flight, summaries, points or {})
    pdf = write_report_pdf(work / f"{slug}.pdf", grower, flight.date, summaries, pngs, changes, overview, trends,
                           model_note(scouting.model if scouting is not None else None),
                           page_note(scouting.model if scouting is not None else None))
    kml = write_kml(work / f"{slug}.kml", f"{grower} {format_date(flight.date)}", summaries)
    geojson = write_scouting_geojson(work / f"{slug}.geojson", summaries)
    return [pdf, kml, geojson, overview, *pngs.values(), *trends.values()], summaries


def make_reports(
    survey_dir: Path,
    indices_dir: Path,
    predictions_dir: Path,
    out: Path,
    cfg: ReportConfig,
    grower: str | None = None,
    history: Sequence[Path] = (),
    overwrite: bool = False,
) -> list[Path]:
    """Write every grower's report (or only ``grower``'s) into ``out``.

    Raises:
        SceneNotFoundError: a folder or required file is missing.
        UnknownNameError: ``grower`` is not in the survey.
        InputError: malformed inputs or history.
    """
    flight = load_flight_fields(survey_dir)
    indices = require_dir(indices_dir, "indices", "run 'shimanto indices' first or pass --indices")
    hotspots = load_hotspots(predictions_dir, flight.crs)
    scouting = load_scouting(predictions_dir, hotspots)
    groups = group_by_grower(flight.fields)
    if grower is not None:
        if grower not in groups:
            raise unknown_name("grower", grower, list(groups))
        groups = {grower: groups[grower]}
    known = {f.field_id for f in flight.fields}
    spots: dict[str, list[Hotspot]] = defaultdict(list)
    for h in hotspots:
        if h.field_id in known:
            spots[h.field_id].append(h)
        else:
            log.warning("hotspot in unknown field %r ignored", h.field_id)
    changes = load_history(list(history), flight.date.isoformat())
    points = history_points(list(history), flight.date.isoformat())
    claim_output_folder(out, "report", overwrite)
    work = Path(tempfile.mkdtemp(prefix=".report.", dir=out))
    try:
        produced: list[Path] = []
        figures: dict[str, dict[str, Any]] = {}
        with progress_task("reports", len(groups)) as (progress, task):
            for name, fields in groups.items():
                files, summaries = _grower_report(work, flight, name, fields, spots, indices, changes, cfg, points,
                                                  scouting)
                produced += files
                for s in summaries:
                    figures[s.field.field_id] = {
                        "grower_slug": grower_slug(name), "index": s.index, "index_mean": s.index_mean,
                        "ndvi_mean": s.ndvi_mean, "concern_m2": round(s.concern_m2, 1),
                        "findings": len(s.findings),
                    }
                progress.advance(task)  # type: ignore[arg-type]
        finals = []
        for path in produced:
            final = out / path.name
            os.replace(path, final)
            finals.append(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finals.append(_merge_summary(out / SUMMARY_NAME, flight.date.isoformat(), figures))
    return finals


def _merge_summary(path: Path, date: str, figures: dict[str, dict[str, Any]]) -> Path:
    """Write ``summary.json``, keeping other fields of the same flight from an earlier ``--grower`` run."""
    merged: dict[str, Any] = {}
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if old.get("date") == date:
                merged = dict(old.get("fields", {}))
        except (json.JSONDecodeError, AttributeError):
            merged = {}
    merged.update(figures)
    return atomic_write_json(path, {"date": date, "fields": dict(sorted(merged.items()))})
