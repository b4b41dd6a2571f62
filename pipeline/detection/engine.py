"""Sliding-window inference, strip by strip, in bounded memory.

Windows of ``window × window`` pixels step by ``window − overlap``; the last
row/column of windows is flush with the scene edge. Each window's class
probabilities are multiplied by a separable linear ramp

    w(i) = min(1, (i + ½) / overlap, (window − i − ½) / overlap)

and accumulated with the weights; the blended probability is the weighted sum
divided by the summed weights. Window rows are processed top to bottom; once a
window row is done, every output row above the next window row is final and is
yielded as a :class:`Strip`, so memory is ``(classes + 1) × window × width``
floats whatever the scene height. Bands are read one window row at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
import torch
from affine import Affine
from rasterio.features import rasterize
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from pipeline.detection.card import ModelCard
from pipeline.detection.classes import CROP_NONE, CROP_UNKNOWN, DISEASE_IDS, IGNORE, crop_code
from pipeline.detection.features import compute_features, valid_mask
from pipeline.detection.model import mask_logits
from pipeline.detection.scenes import Field


@dataclass(frozen=True)
class Strip:
    """Final output rows ``[row0, row0 + n)`` of a scene.

    Attributes:
        row0: First scene row.
        classes: ``(n, W)`` uint8 class ids (IGNORE = nodata).
        disease_probability: ``(n, W)`` float32 summed disease-class probability (NaN = nodata).
        field_index: ``(n, W)`` int32 field index (0 outside or no fields layer).
    """

    row0: int
    classes: np.ndarray
    disease_probability: np.ndarray
    field_index: np.ndarray


def window_starts(length: int, window: int, overlap: int) -> list[int]:
    """Window offsets along one axis; the last window ends at ``length`` (one window if shorter)."""
    if length <= window:
        return [0]
    step = window - overlap
    starts = list(range(0, length - window + 1, step))
    if starts[-1] != length - window:
        starts.append(length - window)
    return starts


def ramp_weights(window: int, overlap: int) -> np.ndarray:
    """``(window, window)`` separable linear blending ramp (all weights > 0)."""
    i = np.arange(window, dtype=np.float32) + 0.5
    w1 = np.minimum(1.0, np.minimum(i, window - i) / max(overlap, 1)) if overlap > 0 else np.ones(window, np.float32)
    return np.outer(w1, w1).astype(np.float32)


def pick_device(requested: str | None = None) -> torch.device:
    """``requested`` if given, else CUDA when available, else CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def field_raster(
    fields: Sequence[Field] | None, rows: int, cols: int, transform: Affine
) -> tuple[np.ndarray, np.ndarray]:
    """Field index and crop code of a block; without a fields layer every pixel is of unknown crop."""
    if fields is None:
        return np.zeros((rows, cols), np.int32), np.full((rows, cols), CROP_UNKNOWN, np.uint8)
    if not fields:
        return np.zeros((rows, cols), np.int32), np.full((rows, cols), CROP_NONE, np.uint8)
    index = rasterize(((f.geometry, f.index) for f in fields), out_shape=(rows, cols), transform=transform, fill=0,
                      dtype="int32")
    crop_of = np.zeros(max(f.index for f in fields) + 1, np.uint8)
    for f in fields:
        crop_of[f.index] = crop_code(f.crop)
    return index, crop_of[index]


class WindowPredictor:
    """Runs the model on batches of windows and returns masked class probabilities."""

    def __init__(self, model: torch.nn.Module, card: ModelCard, device: torch.device) -> None:
        self.model = model.to(device).eval()
        self.card = card
        self.device = device
        self.norm = card.normalisation

    def features(self, bands: np.ndarray) -> np.ndarray:
        """Normalised features of a ``(B, H, W)`` block (0 at nodata)."""
        return self.norm.apply(compute_features(bands, self.card.bands, self.card.indices), valid_mask(bands))

    @torch.inference_mode()
    def probabilities(self, feats: np.ndarray, crops: np.ndarray) -> np.ndarray:
        """``(N, K, H, W)`` softmax probabilities of ``(N, C, H, W)`` features with crop masking."""
        x = torch.from_numpy(feats).to(self.device, non_blocking=True)
        c = torch.from_numpy(crops.astype(np.int64)).to(self.device, non_blocking=True)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            logits = self.model(x)
        probs = torch.softmax(mask_logits(logits.float(), c), dim=1)
        return probs.cpu().numpy()


def predict_strips(src: rasterio.DatasetReader, positions: Sequence[int], predictor: WindowPredictor,
                   fields: Sequence[Field] | None, window: int, overlap: int, batch_windows: int) -> Iterator[Strip]:
    """Yield final output strips of scene ``src`` top to bottom (see module docstring)."""
    height, width = src.height, src.width
    n_classes = len(predictor.card.classes)
    weights = ramp_weights(window, overlap)
    disease = list(DISEASE_IDS)
    row_starts, col_starts = window_starts(height, window, overlap), window_starts(width, window, overlap)
    acc = np.zeros((n_classes, window, width), np.float32)
    wsum = np.zeros((window, width), np.float32)
    for k, r in enumerate(row_starts):  # acc[:, 0] is scene row r: rows above r were yielded already
        win = Window(0, r, width, window)
        bands = src.read(list(positions), window=win, out_dtype=np.float32, boundless=True, fill_value=np.nan)
        if src.nodata is not None and not np.isnan(src.nodata):
            bands[bands == src.nodata] = np.nan
        fidx, crops = field_raster(fields, window, width, window_transform(win, src.transform))
        feats = predictor.features(bands)
        wc = min(window, width)
        for b0 in range(0, len(col_starts), batch_windows):
            cols = col_starts[b0 : b0 + batch_windows]
            fx = np.zeros((len(cols), feats.shape[0], window, window), np.float32)
            cx = np.full((len(cols), window, window), CROP_NONE, np.uint8)
            for j, c in enumerate(cols):
                fx[j, :, :, :wc] = feats[:, :, c : c + wc]
                cx[j, :, :wc] = crops[:, c : c + wc]
            probs = predictor.probabilities(fx, cx)
            for j, c in enumerate(cols):
                acc[:, :, c : c + wc] += probs[j, :, :, :wc] * weights[:, :wc]
                wsum[:, c : c + wc] += weights[:, :wc]
        n_final = (row_starts[k + 1] if k + 1 < len(row_starts) else height) - r
        prob = acc[:, :n_final] / np.maximum(wsum[:n_final], 1e-12)
        ok = valid_mask(bands[:, :n_final])
        classes = prob.argmax(axis=0).astype(np.uint8)
        dprob = prob[disease].sum(axis=0).astype(np.float32)
        classes[~ok] = IGNORE
        dprob[~ok] = np.nan
        yield Strip(r, classes, dprob, fidx[:n_final].copy())
        acc = np.roll(acc, -n_final, axis=1)
        acc[:, -n_final:] = 0.0
        wsum = np.roll(wsum, -n_final, axis=0)
        wsum[-n_final:] = 0.0
