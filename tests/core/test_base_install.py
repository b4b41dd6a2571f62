"""The base install (``pip install .``, no extras) plans flights and computes indices (issue 15).

A subprocess blocks the optional dependencies of the ``[ml]``, ``[batch]``, ``[sim]``, ``[outputs]``
and ``[dev]`` extras (importing them raises ``ModuleNotFoundError``, as on a machine without them)
and runs ``shimanto plan survey`` and ``shimanto indices`` through the real CLI. A command that
needs an extra says which one to install (exit 5).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from affine import Affine

from pipeline.common.cog import write_cog
from pipeline.common.geo import JGD2011_UTM53N

ROOT = Path(__file__).resolve().parents[2]
#: Top-level modules that only the extras bring.
EXTRAS_ONLY = ("torch", "torchvision", "mlflow", "safetensors", "dask", "distributed", "prosail", "numba",
               "matplotlib", "reportlab", "qrcode", "segno", "pystac", "jsonschema", "dvc", "pandas", "statsmodels",
               "pyogrio")

RUNNER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = set(sys.argv[1].split(","))
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, Block())
    sys.path.insert(0, sys.argv[2])
    from cli import main
    status = main(sys.argv[3:])
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    sys.exit(status)
""")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUNNER, ",".join(EXTRAS_ONLY), str(ROOT), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_plan_and_indices_run_without_the_extras(tmp_path: Path) -> None:
    plan = _run(["plan", "survey", str(ROOT / "flight_plans" / "kubokawa_paddies.geojson"), "--camera", "rededge-mx",
                 "--gsd-cm", "5", "--front-overlap", "0.75", "--side-overlap", "0.7", "--home", "33.1995,133.1415",
                 "--out", "plans", "--name", "paddies"], tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert (tmp_path / "plans" / "paddies.plan").is_file()
    rng = np.random.default_rng(3)
    scene = rng.uniform(0.02, 0.5, size=(5, 64, 64)).astype("float32")
    write_cog(tmp_path / "scene.tif", scene, transform=Affine(0.1, 0, 500000, 0, -0.1, 3670000),
              crs=JGD2011_UTM53N.to_wkt(), nodata=float("nan"),
              band_descriptions=["blue", "green", "red", "nir", "red_edge"])
    idx = _run(["indices", "scene.tif", "--sensor", "rededge-mx", "--indices", "ndvi,ndre", "--out", "idx"], tmp_path)
    assert idx.returncode == 0, idx.stderr
    assert (tmp_path / "idx" / "ndvi.tif").is_file()


def test_a_command_needing_an_extra_names_it(tmp_path: Path) -> None:
    train = _run(["train", "s1", "--out", "model"], tmp_path)
    assert train.returncode == 5, train.stderr
    assert "'shimanto train' needs the optional package 'torch'" in train.stderr
    assert "pip install 'shimanto-pipeline[ml]'" in train.stderr
    assert len(train.stderr.strip().splitlines()) == 1
