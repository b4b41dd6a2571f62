"""Settings of the detection stage (``detection:`` section of params.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.config import section


@dataclass(frozen=True)
class DetectionConfig:
    """Dataset, model, training, inference and flagging settings.

    Attributes:
        bands: Scene bands used as inputs, by band description (file order does not matter).
        indices: Normalised-difference indices added as channels (see ``features.INDICES``).
        relative_indices: Indices added relative to their field's median (``I − median_field(I)``).
        chip_size: Training chip side in pixels.
        chip_stride: Step between training chips in pixels (``< chip_size`` overlaps).
        val_fraction: Share of fields held out for validation (split by field).
        base_channels: Width of the U-Net's first level.
        epochs: Maximum training epochs.
        chips_per_epoch: Chips drawn (with oversampling) per epoch.
        max_val_chips: Validation chips scored each epoch (a fixed random subset).
        batch_size: Chips per training step.
        learning_rate: AdamW learning rate.
        weight_decay: AdamW weight decay.
        patience: Early stopping: epochs without validation-loss improvement.
        max_train_seconds: Safety cap on training wall time (whole epochs); the epoch count decides normally.
        disease_oversample: Sampling weight of chips that hold disease (others 1).
        max_class_weight: Cap of the inverse-frequency class weights.
        brightness_range: Illumination augmentation: gain drawn in ``1 ± range``.
        misregistration_prob: Chance per chip of shifting one band by ±1 pixel.
        seed: Random seed of split, sampling, augmentation and initialisation.
        threads: torch CPU threads.
        window: Inference window side in pixels.
        overlap: Overlap of inference windows in pixels (blended with linear ramps).
        batch_windows: Windows per inference forward pass.
        min_hotspot_area_m2: Hotspots smaller than this are dropped (specks).
        flag_min_area_m2: A field is flagged when its largest predicted disease patch ≥ this (m²) ...
        flag_min_fraction: ... and all predicted disease ≥ this share of the field (see metrics.py).
        model_name: Name of the model in the MLflow registry.
        scout_max_points: Scouting points listed per field (:class:`scouting.ScoutingRules`).
        scout_merge_m: Hotspots closer than this (m) are one scouting point.
        scout_min_area_m2: Scouting points need at least this expected diseased area (m²).
        scout_edge_px: Width (px) of the boundary band where thin/elongated hotspots are slivers.
        gsd_m: Working GSD of the model (m): every training, evaluation and inference scene is read resampled to
            it (GDAL average when downsampling, :mod:`resample`); ``None`` = the first training survey's GSD.
            Recorded in the model card (``gsd_m``).
        randomise_training: Draw each simulated training survey's departures from the nominal simulator
            from ``simulate.variation.TRAINING`` (domain randomisation; demo and benchmarks); training then also
            accepts surveys from several cameras with the model's bands (``bench/bench_shifted.py --randomise``
            draws GSD and camera from ``TRAINING_ACQUISITION``; the demo draws the physics knobs only).
    """

    bands: tuple[str, ...] = ("blue", "green", "red", "nir", "red_edge")
    indices: tuple[str, ...] = ("ndvi", "ndre", "gndvi")
    relative_indices: tuple[str, ...] = ("ndvi", "ndre", "gndvi")
    chip_size: int = 128
    chip_stride: int = 96
    val_fraction: float = 0.25
    base_channels: int = 16
    epochs: int = 50
    chips_per_epoch: int = 256
    max_val_chips: int = 96
    batch_size: int = 16
    learning_rate: float = 0.002
    weight_decay: float = 0.0001
    patience: int = 12
    max_train_seconds: float = 300.0
    disease_oversample: float = 3.0
    max_class_weight: float = 5.0
    brightness_range: float = 0.2
    misregistration_prob: float = 0.3
    seed: int = 0
    threads: int = 2
    window: int = 256
    overlap: int = 32
    batch_windows: int = 8
    min_hotspot_area_m2: float = 0.5
    flag_min_area_m2: float = 10.0
    flag_min_fraction: float = 0.01
    model_name: str = "shimanto-disease"
    scout_max_points: int = 4
    scout_merge_m: float = 5.0
    scout_min_area_m2: float = 2.0
    scout_edge_px: float = 3.0
    randomise_training: bool = False
    gsd_m: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.chip_size < 32 or self.chip_size % 16:
            problems.append(f"chip_size={self.chip_size} must be a multiple of 16 and at least 32")
        if not 0 < self.chip_stride <= self.chip_size:
            problems.append(f"chip_stride={self.chip_stride} must be in 1..chip_size")
        if not 0.0 < self.val_fraction < 1.0:
            problems.append(f"val_fraction={self.val_fraction} must be between 0 and 1")
        if self.window < 32 or self.window % 16:
            problems.append(f"window={self.window} must be a multiple of 16 and at least 32")
        if not 0 <= self.overlap < self.window // 2:
            problems.append(f"overlap={self.overlap} must be in 0..window/2")
        for name in ("epochs", "batch_size", "threads", "batch_windows", "base_channels", "chips_per_epoch",
                     "max_val_chips"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)} must be at least 1")
        if self.gsd_m is not None and not 0.005 <= self.gsd_m <= 1.0:
            problems.append(f"gsd_m={self.gsd_m} must be a pixel size in metres between 0.005 and 1 (e.g. 0.1)")
        if problems:
            raise ValueError("; ".join(problems))


def detection_config(values: Mapping[str, Any], **overrides: Any) -> DetectionConfig:
    """Build the config from a params section, then apply non-``None`` overrides."""
    merged = dict(values)
    merged.update({k: v for k, v in overrides.items() if v is not None})
    return section(DetectionConfig, merged, "detection")
