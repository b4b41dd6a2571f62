"""The notebooks run top to bottom (nbmake, the venv's ``python3`` kernel) and are stored without outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((PROJECT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stored_without_outputs() -> None:
    assert len(NOTEBOOKS) >= 3
    for nb in NOTEBOOKS:
        doc = json.loads(nb.read_text(encoding="utf-8"))
        assert doc["metadata"]["kernelspec"]["name"] == "python3", nb.name
        for cell in doc["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{nb.name} has stored outputs"
                source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                imports = [ln for ln in source.splitlines() if ln.startswith(("import ", "from "))]
                assert not any(ln.startswith(("from cli", "import cli", "from tests")) for ln in imports), nb.name


@pytest.mark.slow
def test_notebooks_run_with_nbmake(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "pytest", "--nbmake", "--nbmake-timeout=300", "-q", "-p", "no:cacheprovider",
           "--rootdir", str(PROJECT), *map(str, NOTEBOOKS)]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"{len(NOTEBOOKS)} passed" in done.stdout
