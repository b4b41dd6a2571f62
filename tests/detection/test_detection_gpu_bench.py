"""The GPU benchmark script runs (on the CPU here) through the product's predict path and prints its figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_benchmark_script_runs_on_cpu_and_reports_both_rates():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_inference.py"), "--device", "cpu", "--size",
                           "320", "--repeat", "1"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    rates = {name: float(value) for name, value in
             re.findall(r"^(model only|read only|end to end)\b.*?: +([0-9.]+) Mpx/s", done.stdout, re.MULTILINE)}
    assert set(rates) == {"model only", "read only", "end to end"}, done.stdout
    assert all(v > 0 for v in rates.values())
    ratio = float(re.search(r"ratio end-to-end / model-only: ([0-9.]+)", done.stdout).group(1))
    e2e, model = rates["end to end"], rates["model only"]
    rounding = 0.05 / model + 0.05 * e2e / model**2  # rates are printed to 0.1 Mpx/s (slow CPUs: ~1 Mpx/s)
    assert abs(ratio - e2e / model) < 0.01 + 0.01 * ratio + rounding
    assert "model " in done.stdout.split("breakdown (s):")[1]  # the per-stage breakdown of predict_scene
