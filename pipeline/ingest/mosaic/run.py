"""``run_mosaic``: captures -> checked -> NodeODM task -> orthophoto/DSM COGs and a record, all or nothing.

Output folder (``--out DIR``):

* ``orthophoto.tif``: ODM's orthophoto as a Cloud-Optimized GeoTIFF (its bands,
  alpha last, as ODM wrote them) — the scene that ``shimanto indices`` takes;
* ``dsm.tif``: the digital surface model (COG, metres) when ODM produced one;
* ``mosaic.json``: the record — task UUID, node, ODM options, the captures sent
  (files, panel) and those left out with why, GSD, and what each raster holds.

Resume record: ``DIR/.mosaic-task.json`` (task UUID, node, fingerprint of the
captures and options) is written before the first byte is uploaded. A run that
is killed, or loses the node after the task was committed, leaves only that
file; the same command run again picks the same task up by its UUID (still
running, finished, or an upload to redo). A run whose captures or options
differ refuses to reuse it. Failures before the commit, ODM failures and
Ctrl-C (which cancels the remote task) remove it, leaving ``DIR`` as it was.
The outputs are assembled in a temporary sibling folder and swapped in whole.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasterio
import rasterio.shutil
from rasterio.enums import ColorInterp

from pipeline.common.atomic import (
    OUTPUT_MARKER,
    atomic_dir,
    atomic_write_json,
    check_output_folder,
    claim_output_folder,
)
from pipeline.errors import InputError
from pipeline.ingest.mosaic import node as odm
from pipeline.ingest.mosaic.errors import NodeLinkError, OdmTaskError
from pipeline.ingest.mosaic.precheck import CaptureSet, MosaicRequest, check_captures
from pipeline.ingest.orthomosaic import BAND_ALIASES

COMMAND = "mosaic"
STATE_NAME = ".mosaic-task.json"
RECORD_NAME = "mosaic.json"
ORTHOPHOTO_NAME = "orthophoto.tif"
DSM_NAME = "dsm.tif"
#: Members of ODM's ``all.zip`` that are downloaded (NodeODM ``outputs``), and the file each becomes.
ODM_OUTPUTS: dict[str, str] = {"odm_orthophoto/odm_orthophoto.tif": ORTHOPHOTO_NAME, "odm_dem/dsm.tif": DSM_NAME}

#: ``(phase, percent)``: phase is ``upload``, ``processing`` or ``download``.
Reporter = Callable[[str, float], None]


@dataclass(frozen=True)
class MosaicResult:
    """What :func:`run_mosaic` wrote."""

    out: Path
    orthophoto: Path
    dsm: Path | None
    record: Path
    task_uuid: str
    resumed: bool
    warnings: tuple[str, ...]


def _fingerprint(captures: CaptureSet, options: dict[str, Any], node: str) -> str:
    items = sorted((str(p.relative_to(captures.root)), p.stat().st_size) for p in captures.files)
    blob = json.dumps({"files": items, "options": options, "node": node}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _read_state(out: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out / STATE_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"resume record {str(out / STATE_NAME)!r} is unreadable ({exc}); delete it to start "
                         "afresh (the node keeps the old task until it cleans up)") from exc
    return data if isinstance(data, dict) and isinstance(data.get("task_uuid"), str) else None


def _drop_state(out: Path, created: bool) -> None:
    (out / STATE_NAME).unlink(missing_ok=True)
    if created and out.is_dir() and {p.name for p in out.iterdir()} <= {OUTPUT_MARKER}:
        shutil.rmtree(out)


def _to_cog(src: Path, dst: Path, tags: dict[str, str]) -> dict[str, Any]:
    """Copy ODM's GeoTIFF (tagged in place first: a COG cannot be updated) to a COG; describe it."""
    with rasterio.open(src, "r+") as ds:
        ds.update_tags(**tags)
        for i, text in enumerate(ds.descriptions, start=1):  # ODM names multispectral bands "Blue", "Rededge"...
            canonical = canonical_band(text) if text else None
            if canonical is not None:
                ds.set_band_description(i, canonical)
    rasterio.shutil.copy(str(src), str(dst), driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=512,
                         BIGTIFF="IF_SAFER", NUM_THREADS="ALL_CPUS")
    with rasterio.open(dst) as ds:
        return {"file": dst.name, "crs": ds.crs.to_string() if ds.crs else None, "width": ds.width,
                "height": ds.height, "bands": ds.count, "dtype": ds.dtypes[0],
                "resolution_m": [abs(ds.transform.a), abs(ds.transform.e)],
                "colour": [c.name for c in ds.colorinterp], "nodata": ds.nodata}


def canonical_band(text: str) -> str | None:
    """Our band name for a band description (``Rededge`` -> ``red_edge``, ``NIR`` -> ``nir``), or ``None``."""
    key = "_".join(text.strip().lower().replace("-", " ").split())
    return dict(BAND_ALIASES).get(key) or dict(BAND_ALIASES).get(key.replace("_", ""))


def orthophoto_sensor(description: dict[str, Any]) -> str | None:
    """Sensor registry name matching an orthophoto's layout: ``rgb`` for RGB(A), ``rededge-mx`` for 5 bands (+alpha)."""
    colour = [c for c in description["colour"] if c != ColorInterp.alpha.name]
    if colour == ["red", "green", "blue"]:
        return "rgb"
    return "rededge-mx" if len(colour) == 5 else None


def run_mosaic(
    captures: Path | str,
    node_url: str,
    out: Path | str,
    *,
    token: str = "",
    request: MosaicRequest | None = None,
    settings: odm.NodeSettings | None = None,
    report: Reporter | None = None,
    overwrite: bool = False,
) -> MosaicResult:
    """Check ``captures``, process them on the node at ``node_url``, and write ``out`` (see the module doc).

    Raises:
        InputError / SceneNotFoundError: bad captures, ``--out`` or ``--node`` (nothing uploaded).
        NodeLinkError: the node failed or refused (exit 4).
        OdmTaskError: ODM failed the task (its last output lines in the message).
        KeyboardInterrupt: after cancelling the remote task.
    """
    request = request or MosaicRequest()
    settings = settings or odm.NodeSettings()
    out = Path(out)
    address = odm.parse_node_url(node_url)
    check_output_folder(out, COMMAND, overwrite)
    capture_set = check_captures(captures, request)
    options = capture_set.odm_options(request)
    fingerprint = _fingerprint(capture_set, options, address.display)
    client, node_info = odm.connect(address, token, settings)
    state = _read_state(out)
    if state is not None and state.get("fingerprint") != fingerprint:
        raise InputError(
            f"--out {str(out)!r} holds the resume record of another mosaic (task {state['task_uuid']}, other "
            f"captures, options or node); choose another --out, or delete {STATE_NAME} there to abandon that task")
    # A folder holding only our marker and resume record was made by an earlier, interrupted run: ours to remove.
    created = not out.exists() or {p.name for p in out.iterdir()} <= {OUTPUT_MARKER, STATE_NAME}
    remote = odm.task_state(client, address, state["task_uuid"]) if state else None
    resumed = remote is not None and int(remote.get("status", {}).get("code", 0)) not in (odm.FAILED, odm.CANCELED)
    task_uuid = state["task_uuid"] if state and (resumed or remote is None) else str(uuidlib.uuid4())
    claim_output_folder(out, COMMAND, overwrite)  # marked as mosaic's: holds the resume record until the swap
    atomic_write_json(out / STATE_NAME, {
        "task_uuid": task_uuid, "node": address.display, "fingerprint": fingerprint,
        "captures": str(capture_set.root), "written_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    committed = resumed
    try:
        if not resumed:
            odm.submit(client, address, task_uuid, capture_set.files, options, name=f"shimanto {out.name}",
                       outputs=list(ODM_OUTPUTS), settings=settings,
                       progress=(lambda pct: report("upload", pct)) if report else None)
            committed = True
        final = odm.follow(client, address, task_uuid, settings,
                           (lambda info: report("processing", float(info.get("progress", 0)))) if report else None)
        result = _assemble(client, address, task_uuid, out, capture_set, options, node_info, final, report)
    except KeyboardInterrupt:
        if committed:
            odm.cancel(client, task_uuid)
        _drop_state(out, created)
        raise
    except OdmTaskError:
        _drop_state(out, created)
        raise
    except NodeLinkError as exc:
        if not committed:
            _drop_state(out, created)
            raise
        raise NodeLinkError(f"{exc}; task {task_uuid} is recorded in {str(out / STATE_NAME)!r}: the same command "
                            "resumes it") from exc
    return MosaicResult(result["out"], result["orthophoto"], result["dsm"], result["record"], task_uuid, resumed,
                        capture_set.warnings)


def _assemble(client: Any, address: odm.NodeAddress, task_uuid: str, out: Path, captures: CaptureSet,
              options: dict[str, Any], node_info: dict[str, Any], final: dict[str, Any],
              report: Reporter | None) -> dict[str, Any]:
    """Download, convert to COGs, write the record in a temporary sibling, then swap it in for ``out``."""
    with atomic_dir(out, COMMAND) as tmp:  # out is mosaic's (resume record, maybe a previous output)
        if report:
            report("download", 0.0)
        found = odm.download(client, address, task_uuid, tmp / ".download", list(ODM_OUTPUTS))
        if "odm_orthophoto/odm_orthophoto.tif" not in found:
            raise OdmTaskError(f"OpenDroneMap task {task_uuid} completed without an orthophoto "
                               "(odm_orthophoto/odm_orthophoto.tif missing from its results); check the node's log")
        tags = {"ODM_TASK": task_uuid, "SOURCE": f"OpenDroneMap via {address.display}"}
        rasters = {name: _to_cog(found[member], tmp / name, tags) for member, name in ODM_OUTPUTS.items()
                   if member in found}
        shutil.rmtree(tmp / ".download")
        ortho = rasters[ORTHOPHOTO_NAME]
        record = {
            "task_uuid": task_uuid, "node": address.display, "node_version": node_info.get("version"),
            "engine": f"{node_info.get('engine', '?')} {node_info.get('engineVersion', '?')}",
            "captures_root": str(captures.root.resolve()),
            "captures": [{"label": g.label, "capture_id": g.capture_id, "panel": g.label == captures.panel,
                          "files": [str(m.path.relative_to(captures.root)) for m in g.bands]}
                         for g in captures.captures],
            "excluded": [{"label": label, "reason": reason} for label, reason in captures.excluded],
            "gsd_cm": round(captures.gsd_cm, 3), "odm_options": options,
            "processing_time_s": round(float(final.get("processingTime", 0)) / 1000.0, 1),
            "sensor": orthophoto_sensor(ortho), "orthophoto": ortho, "dsm": rasters.get(DSM_NAME),
            "written_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        atomic_write_json(tmp / RECORD_NAME, record)
    if report:
        report("download", 100.0)
    return {"out": out, "orthophoto": out / ORTHOPHOTO_NAME,
            "dsm": out / DSM_NAME if DSM_NAME in rasters else None, "record": out / RECORD_NAME}
