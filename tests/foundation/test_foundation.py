"""Errors, atomic writes, params loading and the CLI's error handling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from pipeline.common.atomic import atomic_dir, atomic_path, atomic_write_json
from pipeline.common.cog import cog_problems, write_cog
from pipeline.config import ConfigError, load_params, section
from pipeline.errors import (
    InputError,
    PipelineError,
    SceneNotFoundError,
    UnknownNameError,
    unknown_name,
)
from pipeline.ingest.sensors import get_sensor


def test_errors_inherit_matching_builtins() -> None:
    assert issubclass(SceneNotFoundError, FileNotFoundError)
    assert issubclass(InputError, ValueError)
    assert issubclass(UnknownNameError, KeyError)
    err = unknown_name("sensor", "foo", ["b", "a"])
    assert isinstance(err, PipelineError)
    assert str(err) == "unknown sensor 'foo'; expected one of: a, b"


def test_atomic_path_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    atomic_write_json(target, {"a": "四万十"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": "四万十"}
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_dir_replaces_only_when_complete(tmp_path: Path) -> None:
    final = tmp_path / "result"
    with atomic_dir(final, "test") as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(ValueError), atomic_dir(final, "test") as tmp:
        (tmp / "b.txt").write_text("2")
        raise ValueError("fail")
    assert sorted(p.name for p in final.iterdir()) == [".shimanto-output.json", "a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_params_sections_are_frozen_and_checked(tmp_path: Path) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Demo:
        epochs: int = 3
        bands: tuple[str, ...] = ("red", "nir")

    path = tmp_path / "params.yaml"
    path.write_text("detection:\n  epochs: 5\n  bands: [red]\n")
    params = load_params(path)
    cfg = section(Demo, params.get("detection"), "detection")
    assert cfg == Demo(epochs=5, bands=("red",))
    with pytest.raises(TypeError):
        params.get("detection")["epochs"] = 1  # type: ignore[index]
    path.write_text("detection:\n  epoch: 5\n")
    with pytest.raises(ConfigError, match="unknown key"):
        section(Demo, load_params(path).get("detection"), "detection")
    with pytest.raises(SceneNotFoundError):
        load_params(tmp_path / "missing.yaml")


def test_write_cog_is_valid_and_keeps_metadata(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arr = rng.random((2, 600, 700), dtype=np.float32)
    arr[0, :10, :10] = np.nan
    path = write_cog(
        tmp_path / "x.tif",
        arr,
        transform=from_origin(500000, 3670000, 0.1, 0.1),
        crs="EPSG:6690",
        nodata=float("nan"),
        band_descriptions=["ndvi", "ndre"],
        tags={"SOURCE": "test"},
    )
    assert cog_problems(path) == []
    with rasterio.open(path) as src:
        assert src.descriptions == ("ndvi", "ndre")
        assert src.tags()["SOURCE"] == "test"
        np.testing.assert_array_equal(src.read(), arr)


def test_sensor_registry() -> None:
    mx = get_sensor("RedEdge-MX")
    assert mx.band_names == ("blue", "green", "red", "nir", "red_edge")
    assert mx.with_band_order(["nir", "red", "green", "blue", "red_edge"]).band_index("nir") == 0
    with pytest.raises(UnknownNameError, match="expected one of"):
        get_sensor("nope")


def test_cli_errors_are_one_line(run_cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert run_cli(["no-such-command"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "no-such-command" in err[0]
