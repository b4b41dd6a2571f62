"""``shimanto train``: fit the disease model on labelled survey folders.

Seeded and reproducible on CPU (``torch.manual_seed``, one numpy
``Generator`` for split, sampling and augmentation, deterministic algorithms,
fixed thread count); on CUDA it uses bf16 autocast. The loss is class-weighted
cross-entropy (median-frequency weights, :func:`dataset.class_weights`) on
crop-masked logits, with chips holding disease oversampled. Training stops
early when validation loss has not improved for ``patience`` epochs or the
time budget is spent; the best epoch's weights are kept.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from pipeline.core.io import open_survey
from pipeline.detection.calibration import calibrate
from pipeline.detection.card import INTENDED_USE, LIMITATIONS, ModelCard, git_commit, save_model_dir
from pipeline.detection.classes import CLASS_NAMES, CLASSES, DISEASE_IDS, IGNORE
from pipeline.detection.config import DetectionConfig
from pipeline.detection.dataset import (
    Chip,
    Normalisation,
    Split,
    chip_arrays,
    class_weights,
    cut_chips,
    fit_normalisation,
    make_batch,
    sampling_order,
    split_by_field,
)
from pipeline.detection.engine import pick_device
from pipeline.detection.features import field_median_table, sample_step
from pipeline.detection.model import build_model, mask_logits
from pipeline.detection.scenes import LabelledScene, hash_inputs, load_labelled_scene, scene_bands
from pipeline.errors import InputError

ARCHITECTURE = "compact-unet"


@dataclass(frozen=True)
class EpochResult:
    """Metrics of one epoch."""

    epoch: int
    train_loss: float
    val_loss: float
    val_miou: float
    val_disease_iou: float
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    """What training produced."""

    model_dir: Path
    card: ModelCard
    history: tuple[EpochResult, ...]
    confusion: np.ndarray
    samples: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]


def scene_median_table(scene: LabelledScene, cfg: DetectionConfig, max_pixels: float = 4.0e6) -> np.ndarray:
    """Field medians of the relative indices on every ``sample_step``-th pixel (the pixels inference samples)."""
    height, width = scene.labels.shape
    step = sample_step(height, width, max_pixels)
    return field_median_table(scene.stack[:, ::step, ::step], cfg.bands, cfg.relative_indices,
                              scene.field_index[::step, ::step], len(scene.fields))


def seed_everything(seed: int, threads: int) -> np.random.Generator:
    """Seed torch and return the run's numpy Generator; fix CPU threads and determinism."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def load_scenes(surveys: Sequence[Path], bands: Sequence[str], observations: bool = False,
                gsd_m: float | None = None, mixed_sensors: bool = False) -> list[LabelledScene]:
    """Read every survey onto the working grid of ``gsd_m`` (m; ``None``: the first survey's GSD); refuse mixing
    sensors unless ``mixed_sensors`` (domain-randomised training over cameras that share the model's band names;
    the model card then names no single sensor, :func:`card_sensor`).

    Surveys at another GSD are resampled to the working GSD as they are read (GDAL ``average`` when
    downsampling, :mod:`pipeline.detection.resample`), so 5 cm and 10 cm surveys train one model.
    With ``observations``, a survey that holds field observations (``scout import``) is labelled by them
    alone (:mod:`observed`); its ``labels.geojson``, if any, is not read.
    """
    from pipeline.detection.fieldwork import read_observations
    from pipeline.detection.observed import load_observed_scene

    if gsd_m is None and surveys:
        gsd_m = round(abs(scene_bands(open_survey(surveys[0]).scene).transform.a), 6)
    scenes = []
    for s in surveys:
        obs = read_observations(Path(s)) if observations else []
        scenes.append(load_observed_scene(s, bands, obs, gsd_m=gsd_m) if obs
                      else load_labelled_scene(s, bands, gsd_m=gsd_m))
    sensors = {s.sensor for s in scenes}
    if len(sensors) > 1 and not mixed_sensors:
        raise InputError(f"training surveys come from several sensors {sorted(map(str, sensors))}; train one model "
                         "per sensor")
    return scenes


def card_sensor(scenes: Sequence[LabelledScene]) -> str | None:
    """The sensor a model card names: the training scenes' one sensor, or ``None`` when they mix cameras (then
    inference checks band names only)."""
    sensors = {s.sensor for s in scenes}
    return next(iter(sensors)) if len(sensors) == 1 else None


def _confusion(labels: torch.Tensor, pred: torch.Tensor, k: int) -> np.ndarray:
    ok = labels != IGNORE
    return torch.bincount(labels[ok] * k + pred[ok], minlength=k * k).reshape(k, k).cpu().numpy()


def _ious(conf: np.ndarray) -> tuple[float, float]:
    tp = np.diag(conf).astype(np.float64)
    denom = conf.sum(0) + conf.sum(1) - tp
    present = conf.sum(1) > 0
    miou = float(np.mean(tp[present] / np.maximum(denom[present], 1))) if present.any() else 0.0
    d = list(DISEASE_IDS)
    dtp = conf[np.ix_(d, d)].sum()
    dden = conf[d, :].sum() + conf[:, d].sum() - dtp
    return miou, float(dtp / dden) if dden else 0.0


class Trainer:
    """One training run over prepared scenes (see module docstring)."""

    def __init__(self, scenes: Sequence[LabelledScene], cfg: DetectionConfig, device: torch.device | None = None,
                 init: Path | None = None):
        """Prepare chips, split, normalisation and the network.

        ``init``: a model directory to fine-tune (its weights, width and normalisation are kept).
        """
        self.cfg = cfg
        self.scenes = list(scenes)
        self.rng = seed_everything(cfg.seed, cfg.threads)
        self.device = device or pick_device()
        chips = cut_chips(self.scenes, cfg.chip_size, cfg.chip_stride)
        self.split: Split = split_by_field(self.scenes, chips, cfg.val_fraction, self.rng)
        if len(self.split.val) > cfg.max_val_chips:  # a fixed subset, chips with disease first
            ranked = sorted(self.rng.permutation(len(self.split.val)).tolist(),
                            key=lambda i: not self.split.val[i].has_disease)
            self.split = dataclasses.replace(self.split, val=tuple(self.split.val[i] for i in
                                                                  sorted(ranked[: cfg.max_val_chips])))
        if not self.split.train or not self.split.val:
            raise InputError(f"the surveys give {len(self.split.train)} training and {len(self.split.val)} "
                             "validation chips; provide more fields (at least two per crop) or a smaller chip_size")
        self.tables = [scene_median_table(s, cfg) for s in self.scenes]
        train_arrays = [self._chip(c, True) for c in self.split.train]
        self.weights = torch.as_tensor(class_weights([a.labels for a in train_arrays], cfg.max_class_weight))
        self.init = init
        if init is not None:
            from pipeline.detection.card import load_model

            model, card = load_model(init, "cpu")
            if (card.bands, card.indices, card.relative_indices) != (cfg.bands, cfg.indices, cfg.relative_indices):
                raise InputError(f"model {str(init)!r} uses bands/indices {card.bands + card.indices} but the "
                                 f"config asks for {cfg.bands + cfg.indices}; fine-tune with the model's params")
            self.norm: Normalisation = card.normalisation
            self.cfg = cfg = dataclasses.replace(cfg, base_channels=card.base_channels)
            self.model = model.train().to(self.device)
            return
        self.norm = fit_normalisation(train_arrays, cfg.bands, cfg.indices, cfg.relative_indices)
        n_in = len(cfg.bands) + len(cfg.indices) + len(cfg.relative_indices)
        self.model = build_model(ARCHITECTURE, n_in, len(CLASSES), cfg.base_channels).to(self.device)

    def _chip(self, chip: Chip, train: bool) -> Any:
        side = self.split.train_fields if train else self.split.val_fields
        return chip_arrays(self.scenes, chip, self.cfg.chip_size, side, self.tables)

    def _tensors(self, arrays: Sequence[Any], augment: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        x, y, c = make_batch(arrays, cfg.bands, cfg.indices, self.norm, self.rng if augment else None,
                             cfg.brightness_range, cfg.misregistration_prob, cfg.relative_indices)
        return (torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device),
                torch.from_numpy(c).to(self.device))

    def _logits(self, x: torch.Tensor, crops: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            logits = self.model(x)
        return mask_logits(logits.float(), crops)

    def validate(self, keep_samples: int = 0) -> tuple[float, np.ndarray, list[tuple[np.ndarray, ...]]]:
        """Validation loss, confusion matrix and a few (rgb, labels, prediction) samples."""
        self.model.eval()
        k = len(CLASSES)
        conf = np.zeros((k, k), np.int64)
        loss_sum, n_px = 0.0, 0
        samples: list[tuple[np.ndarray, ...]] = []
        bs = self.cfg.batch_size
        with torch.inference_mode():
            for b0 in range(0, len(self.split.val), bs):
                arrays = [self._chip(c, False) for c in self.split.val[b0 : b0 + bs]]
                x, y, c = self._tensors(arrays, augment=False)
                logits = self._logits(x, c)
                valid = int((y != IGNORE).sum())
                if valid:
                    loss_sum += float(F.cross_entropy(logits, y, weight=self.weights.to(self.device),
                                                      ignore_index=IGNORE, reduction="sum"))
                    n_px += valid
                pred = logits.argmax(1)
                conf += _confusion(y, pred, k)
                for arr, t, p in zip(arrays, y.cpu().numpy(), pred.cpu().numpy(), strict=True):
                    if len(samples) < keep_samples and np.isin(t, DISEASE_IDS).any():
                        samples.append((_false_colour(arr.bands, self.cfg.bands), t.astype(np.uint8),
                                        p.astype(np.uint8)))
        return loss_sum / max(n_px, 1), conf, samples

    def held_out_logits(self, max_pixels: int = 200_000) -> tuple[torch.Tensor, torch.Tensor]:
        """Crop-masked logits ``(N, K)`` and labels ``(N,)`` of validation-field pixels (for calibration).

        Validation fields are never trained on; at most ``max_pixels`` pixels, an evenly spaced
        (deterministic) subset.
        """
        self.model.eval()
        zs, ys = [], []
        bs = self.cfg.batch_size
        with torch.inference_mode():
            for b0 in range(0, len(self.split.val), bs):
                arrays = [self._chip(c, False) for c in self.split.val[b0 : b0 + bs]]
                x, y, c = self._tensors(arrays, augment=False)
                logits = self._logits(x, c).permute(0, 2, 3, 1).reshape(-1, len(CLASSES))
                keep = y.reshape(-1) != IGNORE
                zs.append(logits[keep].cpu())
                ys.append(y.reshape(-1)[keep].cpu())
        z, t = torch.cat(zs), torch.cat(ys)
        if len(t) > max_pixels:
            pick = torch.linspace(0, len(t) - 1, max_pixels).long()
            z, t = z[pick], t[pick]
        return z, t

    def fit(self, epochs: int, on_epoch: Callable[[EpochResult], None] | None = None) -> list[EpochResult]:
        """Train up to ``epochs`` epochs (early stopping, time budget); restore the best weights."""
        cfg = self.cfg
        opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        steps = max(1, -(-cfg.chips_per_epoch // cfg.batch_size)) * epochs
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.learning_rate, total_steps=steps, pct_start=0.15)
        weights = self.weights.to(self.device)
        history: list[EpochResult] = []
        best, best_state, stale = float("inf"), None, 0
        started = time.perf_counter()
        for epoch in range(1, epochs + 1):
            t0 = time.perf_counter()
            self.model.train()
            order = sampling_order(self.split.train, cfg.disease_oversample, self.rng, cfg.chips_per_epoch)
            total, count = 0.0, 0
            for b0 in range(0, len(order), cfg.batch_size):
                arrays = [self._chip(self.split.train[i], True) for i in order[b0 : b0 + cfg.batch_size]]
                x, y, c = self._tensors(arrays, augment=True)
                if len(arrays) < 2 or not bool((y != IGNORE).any()):
                    continue
                loss = F.cross_entropy(self._logits(x, c), y, weight=weights, ignore_index=IGNORE)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(arrays)
                count += len(arrays)
            val_loss, conf, _ = self.validate()
            miou, diou = _ious(conf)
            result = EpochResult(epoch, total / max(count, 1), val_loss, miou, diou, time.perf_counter() - t0)
            history.append(result)
            if on_epoch:
                on_epoch(result)
            if val_loss < best - 1e-4:
                best, stale = val_loss, 0
                best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            else:
                stale += 1
            elapsed = time.perf_counter() - started
            if stale >= cfg.patience or elapsed + result.seconds > cfg.max_train_seconds:
                break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        return history


def _false_colour(bands: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """``(H, W, 3)`` nir/red/green composite stretched to 0..1 (bands missing fall back to the first)."""
    pick = [names.index(n) if n in names else 0 for n in ("nir", "red", "green")]
    img = np.nan_to_num(bands[pick].transpose(1, 2, 0))
    hi = np.percentile(img, 98, axis=(0, 1), keepdims=True)
    return np.clip(img / np.maximum(hi, 1e-6), 0, 1)


def training_domain(trainer: Trainer, surveys: Sequence[Path], observations: bool = False) -> dict[str, Any]:
    """What the model was trained on: simulated surveys vs real labelled flights, and field observations.

    A survey is simulated when its ``survey.json`` names the project's simulator as ``generator``;
    observations count as real labels only on a real flight (the demo's come from a simulated one).
    """
    from pipeline.detection.fieldwork import read_observations

    simulated = [Path(s).name for s in surveys if is_simulated(Path(s))]
    real = [Path(s).name for s in surveys if not is_simulated(Path(s))]
    observed = {Path(s).name: len(read_observations(Path(s))) for s in surveys} if observations else {}
    observed = {k: v for k, v in observed.items() if v}
    return {"simulated_surveys": len(simulated), "real_labelled_flights": len(real),
            "observation_flights": sum(1 for k in observed if k in real),
            "simulated_observation_flights": sum(1 for k in observed if k in simulated),
            "observations": sum(observed.values()), "fine_tuned_from": str(trainer.init) if trainer.init else None,
            "surveys": [Path(s).name for s in surveys], "sensor": card_sensor(trainer.scenes),
            "sensors": sorted({str(s.sensor) for s in trainer.scenes}),
            "gsd_m": round(abs(trainer.scenes[0].transform.a), 4),
            "train_fields": len(trainer.split.train_fields), "validation_fields": len(trainer.split.val_fields)}


def is_simulated(survey: Path) -> bool:
    """Whether a survey folder is synthetic: ``survey.json`` names ``shimanto simulate`` as ``generator``
    or says ``"simulated": true`` (the test toy surveys)."""
    meta = survey / "survey.json"
    try:
        doc = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
    except (OSError, ValueError):
        return False
    if not isinstance(doc, dict):
        return False
    return doc.get("simulated") is True or str(doc.get("generator", "")).startswith("shimanto-simulate")


def make_card(trainer: Trainer, surveys: Sequence[Path], history: Sequence[EpochResult], run_id: str | None,
              metrics: dict[str, float], calibration: dict[str, Any] | None = None,
              domain: dict[str, Any] | None = None) -> ModelCard:
    """The model card of a finished training run."""
    cfg = trainer.cfg
    domain = domain or training_domain(trainer, surveys)
    limitations: tuple[str, ...] = LIMITATIONS
    if domain["real_labelled_flights"] + domain["observation_flights"] == 0:
        limitations = (f"Trained on {domain['simulated_surveys']} simulated surveys only, no real labelled flight: "
                       "findings are candidates to confirm in the field.", *LIMITATIONS)
    return ModelCard(
        calibration=calibration or {}, training_domain=domain, intended_use=INTENDED_USE, limitations=limitations,
        architecture=ARCHITECTURE, base_channels=cfg.base_channels, classes=CLASS_NAMES, bands=cfg.bands,
        sensor=card_sensor(trainer.scenes), indices=cfg.indices, relative_indices=cfg.relative_indices,
        mean=trainer.norm.mean, std=trainer.norm.std,
        chip_size=cfg.chip_size, gsd_m=round(abs(trainer.scenes[0].transform.a), 4),
        training_data_hash=hash_inputs(surveys), git_commit=git_commit(), mlflow_run_id=run_id, metrics=metrics,
        params={**dataclasses.asdict(cfg), "epochs_run": len(history),
                "train_chips": len(trainer.split.train), "val_chips": len(trainer.split.val),
                "train_fields": len(trainer.split.train_fields), "val_fields": len(trainer.split.val_fields)},
    )


def save_result(trainer: Trainer, surveys: Sequence[Path], model_dir: Path, history: Sequence[EpochResult],
                run_id: str | None, observations: bool = False) -> TrainResult:
    """Validate the restored best model, calibrate it on the held-out fields and write the model directory.

    With ``observations``, the held-out fields of observation-labelled surveys take part in the
    calibration (their observation discs are its real labels).
    """
    val_loss, conf, samples = trainer.validate(keep_samples=3)
    miou, diou = _ious(conf)
    metrics = {"val_loss": round(val_loss, 5), "val_miou": round(miou, 4), "val_disease_iou": round(diou, 4),
               "epochs": float(len(history))}
    logits, labels = trainer.held_out_logits()
    calibration: dict[str, Any] = {"method": "temperature", **calibrate(logits, labels, DISEASE_IDS),
                   "fitted_on": f"{len(trainer.split.val_fields)} validation fields held out from training"
                   + (" (field observations included where those fields have them)" if observations else "")}
    metrics.update({"ece_before": calibration["ece_before"], "ece_after": calibration["ece_after"]})
    card = make_card(trainer, surveys, history, run_id, metrics, calibration,
                     training_domain(trainer, surveys, observations))
    save_model_dir(model_dir, card, trainer.model)
    return TrainResult(model_dir, card, tuple(history), conf, tuple((s[0], s[1], s[2]) for s in samples))
