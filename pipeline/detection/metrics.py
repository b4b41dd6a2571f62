"""Segmentation and field-level detection metrics (pure numpy).

* Confusion matrix ``M[t, p]`` over pixels with a valid label and prediction.
* Per class: ``IoU = TP / (TP + FP + FN)``, ``F1 = 2TP / (2TP + FP + FN)``.
* Disease IoU: the union of disease classes against everything else, over
  field pixels only.
* Field flagging: a field is *flagged* when its largest connected patch of
  predicted disease (8-connected, any disease class) is at least
  ``flag_min_area_m2`` **and** all predicted disease covers at least
  ``flag_min_fraction`` of the field. By its labels a field is *diseased*
  when its labelled disease passes the same two tests, *healthy* when it has
  no labelled disease at all, and *minor* in between (labelled disease below
  the rule: flagging it is neither a miss nor a false alarm, so it is counted
  apart). A patch, not scattered specks, is what a grower can walk to.
  Missed = diseased and not flagged; false alarm = flagged and healthy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from pipeline.detection.classes import CLASSES, DISEASE_IDS, IGNORE


@dataclass
class MetricAccumulator:
    """Sums confusion matrix and per-field pixel counts over strips."""

    n_classes: int = len(CLASSES)
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((len(CLASSES), len(CLASSES)), np.int64))
    disease_tp: int = 0
    disease_fp: int = 0
    disease_fn: int = 0
    field_pixels: dict[int, int] = field(default_factory=dict)
    field_pred_disease: dict[int, int] = field(default_factory=dict)
    field_true_disease: dict[int, int] = field(default_factory=dict)
    field_pred_patch: dict[int, int] = field(default_factory=dict)
    field_true_patch: dict[int, int] = field(default_factory=dict)

    def add_patches(self, truth: np.ndarray, pred: np.ndarray, field_index: np.ndarray) -> None:
        """Record the largest disease patch per field of a whole scene (call once per scene)."""
        disease = np.array(DISEASE_IDS)
        for store, classes in ((self.field_pred_patch, pred), (self.field_true_patch, truth)):
            for f, n in largest_patches(np.isin(classes, disease) & (field_index > 0), field_index).items():
                store[f] = max(store.get(f, 0), n)

    def add(self, truth: np.ndarray, pred: np.ndarray, field_index: np.ndarray) -> None:
        """Add a block of labels, predictions (uint8 class ids) and field indices."""
        ok = (truth != IGNORE) & (pred != IGNORE)
        k = self.n_classes
        self.confusion += np.bincount(truth[ok].astype(np.int64) * k + pred[ok], minlength=k * k).reshape(k, k)
        disease = np.array(DISEASE_IDS)
        t_d, p_d = np.isin(truth, disease), np.isin(pred, disease)
        inside = ok & (field_index > 0)
        self.disease_tp += int((t_d & p_d & inside).sum())
        self.disease_fp += int((~t_d & p_d & inside).sum())
        self.disease_fn += int((t_d & ~p_d & inside).sum())
        fi = field_index[inside]
        for counts, mask in ((self.field_pixels, None), (self.field_pred_disease, p_d[inside]),
                             (self.field_true_disease, t_d[inside])):
            values = fi if mask is None else fi[mask]
            ids, n = np.unique(values, return_counts=True)
            for i, c in zip(ids.tolist(), n.tolist(), strict=True):
                counts[i] = counts.get(i, 0) + c


def largest_patches(mask: np.ndarray, field_index: np.ndarray) -> dict[int, int]:
    """Pixels of the largest 8-connected patch of ``mask`` inside each field (patches split at field borders)."""
    comp, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return {}
    sel = comp > 0
    n_fields = int(field_index.max()) + 1
    counts = np.bincount(comp[sel].astype(np.int64) * n_fields + field_index[sel], minlength=(n + 1) * n_fields)
    per = counts.reshape(n + 1, n_fields).max(axis=0)
    return {f: int(per[f]) for f in range(1, n_fields) if per[f] > 0}


def per_class_scores(confusion: np.ndarray) -> dict[str, dict[str, float]]:
    """IoU, F1 and support of each class (NaN IoU/F1 when a class is absent in truth and prediction)."""
    tp = np.diag(confusion).astype(np.float64)
    fp = confusion.sum(axis=0) - tp
    fn = confusion.sum(axis=1) - tp
    out = {}
    for cls in CLASSES:
        i = cls.id
        denom = tp[i] + fp[i] + fn[i]
        out[cls.name] = {
            "iou": float(tp[i] / denom) if denom else float("nan"),
            "f1": float(2 * tp[i] / (2 * tp[i] + fp[i] + fn[i])) if denom else float("nan"),
            "support": int(confusion[i].sum()),
        }
    return out


@dataclass(frozen=True)
class FieldFlag:
    """Detection outcome of one field."""

    field_id: str
    crop: str
    area_m2: float
    predicted_disease_m2: float
    labelled_disease_m2: float
    largest_predicted_patch_m2: float
    flagged: bool
    diseased: bool

    @property
    def healthy(self) -> bool:
        """No labelled disease at all (a flag here is a false alarm)."""
        return self.labelled_disease_m2 == 0.0


def flag_fields(acc: MetricAccumulator, fields: dict[int, tuple[str, str]], pixel_area_m2: float,
                min_area_m2: float, min_fraction: float) -> list[FieldFlag]:
    """Apply the flagging rule (module docstring) to every field with valid pixels."""
    out = []
    for idx, n in sorted(acc.field_pixels.items()):
        area = n * pixel_area_m2
        pred = acc.field_pred_disease.get(idx, 0) * pixel_area_m2
        true = acc.field_true_disease.get(idx, 0) * pixel_area_m2

        pred_patch = acc.field_pred_patch.get(idx, 0) * pixel_area_m2
        true_patch = acc.field_true_patch.get(idx, 0) * pixel_area_m2

        def over(total: float, patch: float, area: float = area) -> bool:
            return patch >= min_area_m2 and total >= min_fraction * area

        fid, crop = fields.get(idx, (str(idx), "unknown"))
        out.append(FieldFlag(fid, crop, round(area, 2), round(pred, 2), round(true, 2), round(pred_patch, 2),
                             over(pred, pred_patch), over(true, true_patch)))
    return out


def summarise(acc: MetricAccumulator, flags: list[FieldFlag]) -> dict[str, Any]:
    """Flat metrics for ``dvc metrics show`` plus nested detail."""
    scores = per_class_scores(acc.confusion)
    denom = acc.disease_tp + acc.disease_fp + acc.disease_fn
    present = [s["iou"] for s in scores.values() if s["support"] > 0 and not np.isnan(s["iou"])]
    diseased = [f for f in flags if f.diseased]
    healthy = [f for f in flags if f.healthy]
    minor = [f for f in flags if not f.diseased and not f.healthy]
    total = int(acc.confusion.sum())
    return {
        "disease_iou": round(acc.disease_tp / denom, 4) if denom else None,
        "miou": round(float(np.mean(present)), 4) if present else None,
        "pixel_accuracy": round(float(np.trace(acc.confusion) / total), 4) if total else None,
        "fields_diseased": len(diseased),
        "fields_diseased_flagged": sum(f.flagged for f in diseased),
        "fields_diseased_missed": sum(not f.flagged for f in diseased),
        "fields_healthy": len(healthy),
        "fields_false_alarms": sum(f.flagged for f in healthy),
        "fields_minor": len(minor),
        "fields_minor_flagged": sum(f.flagged for f in minor),
        "iou": {k: (round(v["iou"], 4) if not np.isnan(v["iou"]) else None) for k, v in scores.items()},
        "f1": {k: (round(v["f1"], 4) if not np.isnan(v["f1"]) else None) for k, v in scores.items()},
        "support": {k: v["support"] for k, v in scores.items()},
    }
