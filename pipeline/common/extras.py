"""Which optional dependency comes with which ``pyproject.toml`` extra.

The base install (``pip install shimanto-pipeline``) plans flights, talks MAVLink, computes indices
and mosaics; the extras add the rest by role. ``cli.py`` turns a missing optional module into one
line naming the extra to install (:func:`missing_extra_message`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Top-level module → extra that installs it.
EXTRA_OF_MODULE: Mapping[str, str] = MappingProxyType({
    "torch": "ml", "torchvision": "ml", "mlflow": "ml", "safetensors": "ml", "pyogrio": "ml",
    "prosail": "sim", "numba": "sim",
    "matplotlib": "outputs", "reportlab": "outputs", "qrcode": "outputs", "pystac": "outputs",
    "jsonschema": "outputs", "referencing": "outputs", "PIL": "outputs",
    "dask": "batch", "distributed": "batch",
    "statsmodels": "outputs",  # forecasts: in [outputs] (report history charts) and [batch] (timeseries)
})
#: What each extra is for (README and messages).
EXTRAS: Mapping[str, str] = MappingProxyType({
    "ml": "disease model training, evaluation and prediction (PyTorch, torchvision, MLflow)",
    "sim": "PROSAIL synthetic surveys (shimanto simulate, the demo's data)",
    "outputs": "grower reports (PDF, maps, QR codes) and open data (STAC)",
    "batch": "reprocessing many flights on Dask, time series and forecasts",
    "search": "disaster-search boards (QR codes for pilots)",
})


def missing_extra_message(module: str | None, command: str) -> str | None:
    """One line naming the extra that brings ``module``, or ``None`` when it is not an optional module."""
    top = (module or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    return (f"'shimanto {command}' needs the optional package {top!r} ({EXTRAS[extra]}); install it with: "
            f"pip install 'shimanto-pipeline[{extra}]' (or '.[{extra}]' in a clone)")
