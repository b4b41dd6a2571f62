"""The model directory: weights (safetensors) and ``model_card.json``.

A model directory is self-contained: the card names the architecture, the
classes, the band order, sensor, indices, normalisation and chip size, so
inference needs nothing else. Weights are a safetensors file (tensors only, no
pickled objects).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from pipeline.common.atomic import atomic_path, atomic_write_json
from pipeline.detection.classes import CLASS_NAMES
from pipeline.detection.dataset import Normalisation
from pipeline.detection.model import build_model
from pipeline.errors import InputError, SceneNotFoundError

CARD_NAME = "model_card.json"
WEIGHTS_NAME = "weights.safetensors"
CARD_VERSION = 1
#: What the model is for, stated in every card (and logged to MLflow).
INTENDED_USE = (
    "Screening multispectral drone orthomosaics (MicaSense RedEdge-class bands, ~10 cm GSD) of rice paddies and "
    "ginger fields in Shimanto for places where a disease may be starting, so that a grower or extension officer "
    "walks there and looks at the plants. Not a diagnosis: every finding is a candidate to confirm in the field."
)
#: Known limitations common to every model of this version (the card adds data-specific ones).
LIMITATIONS = (
    "Rice diseases are told apart less well than disease from health: in five VNIR bands the simulated spectra of "
    "blast, brown spot and bacterial leaf blight overlap.",
    "Levee and field-edge effects can look like disease; thin components along field boundaries are dropped from "
    "scouting points but remain in classes.tif.",
    "Probabilities are calibrated on held-out validation fields of the training domain; on other cameras, GSDs, "
    "seasons or regions they may be over-confident.",
)


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to run and trace a trained model.

    Attributes:
        architecture: Key of ``model.ARCHITECTURES``.
        base_channels: Network width.
        classes: Class names by id.
        bands: Scene bands in model input order (matched by band description).
        sensor: Sensor the training scenes came from (``None`` if untagged or several cameras with the model's
            band names, domain-randomised training: inference then checks band names only).
        indices: Index channels appended after the bands.
        relative_indices: Index channels relative to their field's median, appended last.
        mean: Per-channel normalisation mean (training chips only).
        std: Per-channel normalisation standard deviation.
        chip_size: Training chip side (pixels).
        gsd_m: Working ground sample distance (metres): training scenes were read resampled to it, and every
            evaluation/inference scene at another GSD is too (:mod:`resample`, GDAL average when downsampling);
            outputs are written back on the input scene's grid.
        training_data_hash: SHA-256 of the training survey files.
        git_commit: ``git rev-parse HEAD`` at training time, or ``unknown``.
        mlflow_run_id: MLflow run that trained it.
        metrics: Final validation metrics.
        params: Training settings.
    """

    architecture: str
    base_channels: int
    classes: tuple[str, ...]
    bands: tuple[str, ...]
    sensor: str | None
    indices: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    chip_size: int
    gsd_m: float
    training_data_hash: str
    git_commit: str
    mlflow_run_id: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    relative_indices: tuple[str, ...] = ()
    calibration: dict[str, Any] = field(default_factory=dict)
    training_domain: dict[str, Any] = field(default_factory=dict)
    intended_use: str = INTENDED_USE
    limitations: tuple[str, ...] = LIMITATIONS
    version: int = CARD_VERSION

    @property
    def in_channels(self) -> int:
        return len(self.bands) + len(self.indices) + len(self.relative_indices)

    @property
    def normalisation(self) -> Normalisation:
        return Normalisation(self.mean, self.std)

    @property
    def temperature(self) -> float:
        """Softmax temperature ``T`` of the calibration (``softmax(z / T)``; 1 = uncalibrated)."""
        return float(self.calibration.get("temperature", 1.0))

    @property
    def real_labelled_flights(self) -> int:
        """Real (not simulated) labelled flights the model was trained on, with field observations counted."""
        dom = self.training_domain
        return int(dom.get("real_labelled_flights", 0)) + int(dom.get("observation_flights", 0))

    def report_facts(self) -> dict[str, Any]:
        """What a grower report must say about the model (written beside the predictions)."""
        return {"calibrated": "temperature" in self.calibration, "real_labelled_flights": self.real_labelled_flights,
                "simulated_surveys": int(self.training_domain.get("simulated_surveys", 0)),
                "mlflow_run_id": self.mlflow_run_id}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any], source: str = "model card") -> ModelCard:
        problems = []
        names = set(cls.__dataclass_fields__)
        unknown = sorted(set(doc) - names)
        if unknown:
            problems.append(f"unknown key(s) {unknown}")
        required = ["architecture", "base_channels", "classes", "bands", "indices", "mean", "std", "chip_size"]
        missing = [k for k in required if k not in doc]
        if missing:
            problems.append(f"missing key(s) {missing}")
        if not problems:
            doc = {**doc, "relative_indices": doc.get("relative_indices", ()),
                   "limitations": doc.get("limitations", LIMITATIONS)}
            for key in ("classes", "bands", "indices", "mean", "std", "relative_indices", "limitations"):
                doc = {**doc, key: tuple(doc[key])}
            n_in = len(doc["bands"]) + len(doc["indices"]) + len(doc["relative_indices"])
            if len(doc["mean"]) != n_in:
                problems.append(f"{len(doc['mean'])} normalisation means for {n_in} input channels")
            if tuple(doc["classes"]) != CLASS_NAMES:
                problems.append(f"classes {list(doc['classes'])} differ from this version's {list(CLASS_NAMES)}")
        if problems:
            raise InputError(f"{source} is not a valid model card: " + "; ".join(problems) + "; retrain the model")
        doc.setdefault("gsd_m", 0.1)
        doc.setdefault("training_data_hash", "unknown")
        doc.setdefault("git_commit", "unknown")
        return cls(**doc)


def git_commit(cwd: Path | None = None) -> str:
    """``git rev-parse HEAD`` of the project, or ``"unknown"``."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd or Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def save_model_dir(model_dir: Path, card: ModelCard, model: torch.nn.Module) -> Path:
    """Write weights and card into ``model_dir`` (each file atomically)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(model_dir / WEIGHTS_NAME) as tmp:
        save_file(state, str(tmp), metadata={"architecture": card.architecture})
    atomic_write_json(model_dir / CARD_NAME, card.to_json())
    return model_dir


def read_card(model_dir: Path | str) -> ModelCard:
    """Read and validate ``model_card.json`` of a model directory."""
    path = Path(model_dir) / CARD_NAME
    if not path.is_file():
        raise SceneNotFoundError(
            f"model directory {str(model_dir)!r} has no {CARD_NAME}; "
            "train one with 'shimanto train SURVEY... --out DIR'"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{str(path)!r} is not valid JSON ({exc}); retrain the model") from exc
    return ModelCard.from_json(doc, source=str(path))


def load_model(model_dir: Path | str, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, ModelCard]:
    """Build the network from the card and load its safetensors weights (eval mode)."""
    card = read_card(model_dir)
    weights = Path(model_dir) / WEIGHTS_NAME
    if not weights.is_file():
        raise SceneNotFoundError(f"model directory {str(model_dir)!r} has no {WEIGHTS_NAME}; retrain the model")
    model = build_model(card.architecture, card.in_channels, len(card.classes), card.base_channels)
    try:
        model.load_state_dict(load_file(str(weights), device="cpu"))
    except RuntimeError as exc:
        raise InputError(f"weights {str(weights)!r} do not fit the card's architecture: {exc}") from exc
    return model.to(device).eval(), card
