"""``shimanto reprocess`` with the ``mosaic`` stage: SD-card folders -> mosaics -> indices; a bad flight fails alone."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.common.cog import cog_problems


def _card(root: Path, name: str, source: Path) -> Path:
    """An SD-card flight folder ``<area>_<YYYYMMDD>_<sensor>/`` whose images link to the real captures."""
    folder = root / name
    for image in sorted(source.rglob("*.tif")):
        target = folder / image.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(image)
    return folder


def test_reprocess_mosaic_stage(nodeodm, micasense, cli, tmp_path: Path, capsys) -> None:
    node = nodeodm()
    root = tmp_path / "cards"
    _card(root, "kubokawa-east_20260612_rededge-mx", micasense / "0000SET")
    _card(root, "kubokawa-west_20260613_rededge-mx", micasense / "0000SET")
    _card(root, "kubokawa-bad_20260614_rededge-mx", micasense / "0001SET")  # no complete capture at all
    params = tmp_path / "params.yaml"
    params.write_text(f"mosaic:\n  node: {node.url}\nbatch:\n  indices: [gli, ngrdi]\n", encoding="utf-8")
    out = tmp_path / "run"
    rc = cli("reprocess", root, "--out", out, "--stages", "mosaic,indices", "--workers", "1", "--params", params)
    assert rc == 6  # one flight failed; the others finished
    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    status = {(o["flight_id"], o["stage"]): o["status"] for o in summary["outcomes"]}
    for flight in ("kubokawa-east_20260612_rededge-mx", "kubokawa-west_20260613_rededge-mx"):
        assert status[(flight, "mosaic")] == "ran" and status[(flight, "indices")] == "ran"
        mosaic = out / "flights" / flight / "mosaic"
        assert cog_problems(mosaic / "orthophoto.tif") == []
        assert cog_problems(out / "flights" / flight / "indices" / "spyndex_GLI.tif") == []
    assert status[("kubokawa-bad_20260614_rededge-mx", "mosaic")] == "failed"
    assert status[("kubokawa-bad_20260614_rededge-mx", "indices")] == "blocked"
    assert len(node.tasks()) == 2
