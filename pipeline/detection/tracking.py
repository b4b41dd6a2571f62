"""MLflow logging: where runs go, plots, the model directory and its registration.

Runs go to ``MLFLOW_TRACKING_URI`` when set, else to ``sqlite:///<project>/mlflow.db``
(open it with ``mlflow ui --backend-store-uri sqlite:///mlflow.db``). The
model directory is logged as an MLflow *pyfunc* defined from code
(:mod:`pipeline.detection.mlflow_model`; nothing is pickled) with the model
directory as its only artifact, and registered under the configured name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import pipeline

PROJECT_ROOT = Path(pipeline.__file__).resolve().parent.parent
PYFUNC_CODE = Path(__file__).resolve().parent / "mlflow_model.py"
EXPERIMENT = "shimanto-disease-detection"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` or the project's local SQLite store."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{PROJECT_ROOT / 'mlflow.db'}"


def confusion_png(confusion: np.ndarray, classes: Sequence[str], path: Path, title: str) -> Path:
    """Row-normalised confusion matrix heat map with counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = confusion.sum(axis=1, keepdims=True)
    norm = np.divide(confusion, rows, out=np.zeros(confusion.shape, np.float64), where=rows > 0)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    for (i, j), v in np.ndenumerate(confusion):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=6, color="black" if norm[i, j] < 0.6 else "white")
    ax.set_xlabel("predicted")
    ax.set_ylabel("labelled")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def samples_png(rgb: Sequence[np.ndarray], truth: Sequence[np.ndarray], pred: Sequence[np.ndarray], path: Path) -> Path:
    """Rows of (false-colour image, labels, prediction) for a few validation chips."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from pipeline.detection.predict import CLASS_COLOURS

    cmap = ListedColormap([np.array(CLASS_COLOURS[i][:3]) / 255 for i in range(8)])
    n = max(len(rgb), 1)
    fig, axes = plt.subplots(n, 3, figsize=(7.5, 2.5 * n), dpi=90, squeeze=False)
    for r, (img, t, p) in enumerate(zip(rgb, truth, pred, strict=True)):
        for ax, data, title in zip(axes[r], (img, t, p), ("image", "labels", "prediction"), strict=True):
            if data.ndim == 3:
                ax.imshow(data)
            else:
                ax.imshow(np.ma.masked_equal(data, 255), cmap=cmap, vmin=-0.5, vmax=7.5, interpolation="nearest")
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def log_model_dir(model_dir: Path, registered_name: str | None) -> str | None:
    """Log ``model_dir`` as a code-defined pyfunc in the active run; register it; return the version."""
    import mlflow

    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(PYFUNC_CODE),
        artifacts={"model_dir": str(model_dir)},
        pip_requirements=["torch", "numpy", "rasterio", "shapely", "pyproj", "safetensors", "scipy"],
        registered_model_name=registered_name,
    )
    version = getattr(info, "registered_model_version", None)
    return str(version) if version is not None else None


def temp_artifact_dir() -> tempfile.TemporaryDirectory[str]:
    """A temporary folder for plots before they are logged."""
    return tempfile.TemporaryDirectory(prefix="shimanto-mlflow-")
