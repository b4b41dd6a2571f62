"""Training chips from labelled scenes: field-wise split, normalisation, class weights, sampling.

Chips are views into the scenes (nothing is copied until a batch is built).
Each chip belongs to the field covering most of it; fields (not chips) are
split between training and validation, stratified by whether a field holds
disease, and pixels of a field on the other side are set to ``IGNORE`` in a
chip, so no field's pixels are ever seen on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.detection.augment import ChipArrays, augment_chip
from pipeline.detection.classes import CLASSES, DISEASE_IDS, IGNORE
from pipeline.detection.features import compute_features, valid_mask
from pipeline.detection.scenes import LabelledScene

FieldKey = tuple[int, int]  # (scene number, field index); field index 0 = outside every field


@dataclass(frozen=True)
class Chip:
    """A chip position and the field it belongs to."""

    scene: int
    row: int
    col: int
    field: FieldKey
    has_disease: bool


@dataclass(frozen=True)
class Split:
    """Chips and fields of each side."""

    train: tuple[Chip, ...]
    val: tuple[Chip, ...]
    train_fields: frozenset[FieldKey]
    val_fields: frozenset[FieldKey]


def _starts(length: int, size: int, stride: int) -> list[int]:
    if length <= size:
        return [0]
    starts = list(range(0, length - size + 1, stride))
    if starts[-1] != length - size:
        starts.append(length - size)
    return starts


def majority_field(field_index: np.ndarray) -> int:
    """The field index covering most pixels of a chip (0 if no field pixel)."""
    inside = field_index[field_index > 0]
    if inside.size == 0:
        return 0
    values, counts = np.unique(inside, return_counts=True)
    return int(values[np.argmax(counts)])


def cut_chips(scenes: Sequence[LabelledScene], size: int, stride: int) -> list[Chip]:
    """Chip grid over every scene (last row/column flush with the edge); chips without valid labels are skipped."""
    disease = np.array(DISEASE_IDS, dtype=np.uint8)
    chips = []
    for s, scene in enumerate(scenes):
        h, w = scene.labels.shape
        for r in _starts(h, size, stride):
            for c in _starts(w, size, stride):
                lab = scene.labels[r : r + size, c : c + size]
                if np.all(lab == IGNORE):
                    continue
                fid = majority_field(scene.field_index[r : r + size, c : c + size])
                chips.append(Chip(s, r, c, (s, fid), bool(np.isin(lab, disease).any())))
    return chips


def split_by_field(scenes: Sequence[LabelledScene], chips: Sequence[Chip], val_fraction: float,
                   rng: np.random.Generator) -> Split:
    """Hold out ``val_fraction`` of fields (at least one diseased and one healthy when possible)."""
    disease = np.array(DISEASE_IDS, dtype=np.uint8)
    diseased: list[FieldKey] = []
    healthy: list[FieldKey] = []
    for s, scene in enumerate(scenes):
        for index in range(1, len(scene.fields) + 1):
            in_field = scene.field_index == index
            if not in_field.any():
                continue
            (diseased if np.isin(scene.labels[in_field], disease).any() else healthy).append((s, index))
    val: set[FieldKey] = set()
    for group in (diseased, healthy):
        order = rng.permutation(len(group))
        n_val = round(val_fraction * len(group))
        if len(group) >= 2:
            n_val = min(max(n_val, 1), len(group) - 1)
        val.update(group[i] for i in order[:n_val])
    train_fields = frozenset(set(diseased) | set(healthy)) - val
    train = tuple(c for c in chips if c.field not in val)
    val_chips = tuple(c for c in chips if c.field in val)
    return Split(train, val_chips, train_fields, frozenset(val))


def chip_arrays(scenes: Sequence[LabelledScene], chip: Chip, size: int, side_fields: frozenset[FieldKey],
                tables: Sequence[np.ndarray] | None = None) -> ChipArrays:
    """Copy a chip out of its scene; pixels of fields not on this chip's side become IGNORE.

    ``tables`` (one field-median table per scene) give the chip's reference planes.
    """
    scene = scenes[chip.scene]
    sl = (slice(chip.row, chip.row + size), slice(chip.col, chip.col + size))
    labels = scene.labels[sl].copy()
    fidx = scene.field_index[sl]
    own = np.array([f for s, f in side_fields if s == chip.scene] + [0], dtype=np.int32)
    labels[~np.isin(fidx, own)] = IGNORE
    reference = tables[chip.scene][fidx].transpose(2, 0, 1).copy() if tables is not None else None
    return ChipArrays(scene.stack[(slice(None), *sl)].copy(), labels, scene.crops[sl].copy(), reference)


@dataclass(frozen=True)
class Normalisation:
    """Per-channel mean and standard deviation of the features (training chips only)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def apply(self, features: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """``(x - mean) / std`` per channel, 0 where ``valid`` is false."""
        mean = np.asarray(self.mean, np.float32)[:, None, None]
        std = np.asarray(self.std, np.float32)[:, None, None]
        out = (features - mean) / std
        out[:, ~valid] = 0.0
        return out.astype(np.float32, copy=False)


def fit_normalisation(chips: Sequence[ChipArrays], bands: Sequence[str], indices: Sequence[str],
                      relative: Sequence[str] = ()) -> Normalisation:
    """Mean/std of each feature channel over the labelled valid pixels of ``chips`` (float64 sums).

    Pixels set to IGNORE (other side's fields, nodata) do not count, so the
    statistics come from training fields (and non-field background) only.
    """
    total = s1 = s2 = None
    for chip in chips:
        feats = compute_features(chip.bands, bands, indices, relative, chip.reference)
        ok = valid_mask(chip.bands) & (chip.labels != IGNORE)
        x = feats[:, ok].astype(np.float64)
        n = x.shape[1]
        total = n if total is None else total + n
        s1 = x.sum(axis=1) if s1 is None else s1 + x.sum(axis=1)
        s2 = (x**2).sum(axis=1) if s2 is None else s2 + (x**2).sum(axis=1)
    if not total or s1 is None or s2 is None:
        raise ValueError("no valid training pixels to compute normalisation statistics from")
    mean = s1 / total
    std = np.sqrt(np.maximum(s2 / total - mean**2, 0.0))
    std = np.where(std < 1e-6, 1.0, std)
    return Normalisation(tuple(float(v) for v in mean), tuple(float(v) for v in std))


def class_weights(label_chips: Sequence[np.ndarray], max_weight: float, power: float = 0.5) -> np.ndarray:
    """Softened median-frequency balancing ``w_k = (median(f) / f_k) ** power`` in ``[1/max_weight, max_weight]``.

    ``power = 1`` is plain median-frequency balancing (Eigen & Fergus 2015); the
    default square root keeps rare disease classes up-weighted without making
    the model paint disease over healthy canopy. Absent classes get 1.
    """
    counts = np.zeros(len(CLASSES), np.float64)
    for lab in label_chips:
        v = lab[lab != IGNORE]
        counts += np.bincount(v, minlength=len(CLASSES))[: len(CLASSES)]
    present = counts > 0
    weights = np.ones(len(CLASSES), np.float64)
    if present.any():
        freq = counts[present] / counts.sum()
        weights[present] = np.clip((np.median(freq) / freq) ** power, 1.0 / max_weight, max_weight)
    return weights.astype(np.float32)


def sampling_order(chips: Sequence[Chip], oversample: float, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` chip indices for one epoch: chips with disease drawn with weight ``oversample``, others 1."""
    w = np.array([oversample if c.has_disease else 1.0 for c in chips], np.float64)
    return rng.choice(len(chips), size=size, replace=True, p=w / w.sum())


def make_batch(chips: Sequence[ChipArrays], bands: Sequence[str], indices: Sequence[str], norm: Normalisation,
               rng: np.random.Generator | None = None, brightness_range: float = 0.0,
               misregistration_prob: float = 0.0, relative: Sequence[str] = ()
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features ``(N, C, S, S)``, labels ``(N, S, S)`` int64 and crops ``(N, S, S)`` int64 of a batch.

    With ``rng`` each chip is augmented (:func:`augment_chip`) before features are computed.
    """
    xs, ys, cs = [], [], []
    for chip in chips:
        if rng is not None:
            chip = augment_chip(chip, rng, brightness_range, misregistration_prob)
        ok = valid_mask(chip.bands)
        xs.append(norm.apply(compute_features(chip.bands, bands, indices, relative, chip.reference), ok))
        lab = chip.labels.copy()
        lab[~ok] = IGNORE
        ys.append(lab)
        cs.append(chip.crops)
    return np.stack(xs), np.stack(ys).astype(np.int64), np.stack(cs).astype(np.int64)
