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

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
import torch
from affine import Affine
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from pipeline.detection.card import ModelCard
from pipeline.detection.classes import CROP_NONE, CROP_UNKNOWN, DISEASE_IDS, IGNORE, crop_code
from pipeline.detection.features import compute_features, field_median_table, sample_step, valid_mask
from pipeline.detection.model import fuse_for_inference, mask_logits
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


def read_rows(src: rasterio.DatasetReader, positions: Sequence[int], row: int, n_rows: int) -> np.ndarray:
    """Bands ``positions`` of rows ``[row, row + n_rows)`` as float32, NaN for nodata and below the scene.

    Reads only in-bounds rows (a plain windowed read; rasterio's boundless reads
    go through a slower VRT) and pads with NaN.
    """
    inside = max(0, min(n_rows, src.height - row))
    out = np.full((len(positions), n_rows, src.width), np.nan, np.float32)
    if inside:
        out[:, :inside] = src.read(list(positions), window=Window(0, row, src.width, inside), out_dtype=np.float32)
    if src.nodata is not None and not np.isnan(src.nodata):
        out[out == src.nodata] = np.nan
    return out


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


def argmax_first_axis(prob: torch.Tensor) -> torch.Tensor:
    """``prob.argmax(0)`` as uint8 by running comparison over the (few) classes; first maximum wins.

    Faster than a strided reduction over the leading axis of a ``(K, H, W)`` block on CPU.
    """
    best = prob[0].clone()
    out = torch.zeros(prob.shape[1:], dtype=torch.uint8, device=prob.device)
    for k in range(1, prob.shape[0]):
        better = prob[k] > best
        best = torch.where(better, prob[k], best)
        out[better] = k
    return out


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
        self.model = fuse_for_inference(copy.deepcopy(model)).to(device).eval()
        self.card = card
        self.device = device
        self.norm = card.normalisation

    def features(self, bands: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
        """Normalised features of a ``(B, H, W)`` block (0 at nodata); ``reference`` are field medians."""
        card = self.card
        feats = compute_features(bands, card.bands, card.indices, card.relative_indices, reference)
        return self.norm.apply(feats, valid_mask(bands))

    @torch.inference_mode()
    def probabilities(self, feats: np.ndarray, crops: np.ndarray) -> torch.Tensor:
        """``(N, K, H, W)`` softmax probabilities (on the device) of ``(N, C, H, W)`` features, crop-masked."""
        x = torch.from_numpy(feats).to(self.device, non_blocking=True)
        c = torch.from_numpy(crops.astype(np.int64)).to(self.device, non_blocking=True)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            logits = self.model(x)
        return torch.softmax(mask_logits(logits.float(), c), dim=1)


def median_table(src: rasterio.DatasetReader, positions: Sequence[int], card: ModelCard,
                 fields: Sequence[Field] | None) -> np.ndarray:
    """Field medians of the card's relative indices from a sampled read (every ``sample_step`` pixel)."""
    step = sample_step(src.height, src.width)
    shape = (len(positions), -(-src.height // step), -(-src.width // step))
    stack = src.read(list(positions), out_shape=shape, out_dtype=np.float32, resampling=Resampling.nearest)
    if src.nodata is not None and not np.isnan(src.nodata):
        stack[stack == src.nodata] = np.nan
    fidx, _ = field_raster(fields, shape[1], shape[2], src.transform @ Affine.scale(step))
    return field_median_table(stack, card.bands, card.relative_indices, fidx,
                              max((f.index for f in fields or ()), default=0))


def predict_strips(src: rasterio.DatasetReader, positions: Sequence[int], predictor: WindowPredictor,
                   fields: Sequence[Field] | None, window: int, overlap: int, batch_windows: int) -> Iterator[Strip]:
    """Yield final output strips of scene ``src`` top to bottom (see module docstring)."""
    table = median_table(src, positions, predictor.card, fields) if predictor.card.relative_indices else None
    height, width = src.height, src.width
    n_classes = len(predictor.card.classes)
    weights = ramp_weights(window, overlap)
    disease = list(DISEASE_IDS)
    row_starts, col_starts = window_starts(height, window, overlap), window_starts(width, window, overlap)
    dev = predictor.device
    w_t = torch.from_numpy(weights).to(dev)
    disease_t = torch.tensor(disease, device=dev)
    acc = torch.zeros((n_classes, window, width), device=dev)
    wsum = torch.zeros((window, width), device=dev)
    for k, r in enumerate(row_starts):  # acc[:, 0] is scene row r: rows above r were yielded already
        win = Window(0, r, width, window)
        bands = read_rows(src, positions, r, window)
        fidx, crops = field_raster(fields, window, width, window_transform(win, src.transform))
        reference = table[fidx].transpose(2, 0, 1) if table is not None else None
        feats = predictor.features(bands, reference)
        wc = min(window, width)
        for b0 in range(0, len(col_starts), batch_windows):
            cols = col_starts[b0 : b0 + batch_windows]
            fx = np.zeros((len(cols), feats.shape[0], window, window), np.float32)
            cx = np.full((len(cols), window, window), CROP_NONE, np.uint8)
            for j, c in enumerate(cols):
                fx[j, :, :, :wc] = feats[:, :, c : c + wc]
                cx[j, :, :wc] = crops[:, c : c + wc]
            probs = predictor.probabilities(fx, cx)
            with torch.no_grad():
                for j, c in enumerate(cols):
                    acc[:, :, c : c + wc] += probs[j, :, :, :wc] * w_t[:, :wc]
                    wsum[:, c : c + wc] += w_t[:, :wc]
        n_final = (row_starts[k + 1] if k + 1 < len(row_starts) else height) - r
        with torch.no_grad():
            prob = acc[:, :n_final] / wsum[:n_final].clamp_min(1e-12)
            classes = argmax_first_axis(prob).cpu().numpy()
            dprob = prob.index_select(0, disease_t).sum(dim=0).cpu().numpy().astype(np.float32)
        ok = valid_mask(bands[:, :n_final])
        classes[~ok] = IGNORE
        dprob[~ok] = np.nan
        yield Strip(r, classes, dprob, fidx[:n_final].copy())
        with torch.no_grad():
            acc = torch.roll(acc, -n_final, dims=1)
            acc[:, -n_final:] = 0.0
            wsum = torch.roll(wsum, -n_final, dims=0)
            wsum[-n_final:] = 0.0
