"""Strip inference for ``shimanto predict`` and ``shimanto evaluate``, tuned for throughput.

The window geometry, blending ramp, crop masking, field medians and
:class:`engine.Strip` output are those of :mod:`pipeline.detection.engine`
(read its docstring); this module computes them with little overhead on CPU:

* the model runs in ``channels_last`` memory format (oneDNN's fast
  convolution path on CPU, about twice the speed of NCHW at 2 threads), with
  Conv+BN folded (:func:`model.fuse_for_inference`) under ``torch.inference_mode``;
* features are normalised in place, one window row at a time, and windows of
  a batch are blended with in-place ``addcmul_`` (no per-window temporaries);
* the next window row is read and featurised on a worker thread while the
  model runs on the current one (GDAL and NumPy release the GIL);
* per-stage wall time is accumulated in a :class:`StageTimes` if given.

Memory stays ``(classes + 1) × window × width`` floats plus two window rows of
bands, whatever the scene height.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import rasterio
import torch
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from pipeline.detection.card import ModelCard
from pipeline.detection.classes import CROP_NONE, DISEASE_IDS, IGNORE, allowed_table
from pipeline.detection.engine import Strip, field_raster, median_table, ramp_weights, read_rows, window_starts
from pipeline.detection.features import compute_features, valid_mask
from pipeline.detection.model import MASKED_LOGIT, fuse_for_inference
from pipeline.detection.scenes import Field


@dataclass
class StageTimes:
    """Wall seconds per inference stage (read, features, model, blend, write, hotspots, …)."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the wall time of the ``with`` block to ``name``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    def summary(self) -> str:
        """``name 1.23 s`` pairs in insertion order."""
        return ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items())


class FastPredictor:
    """A fused, ``channels_last`` copy of a model that returns crop-masked class probabilities."""

    def __init__(self, model: torch.nn.Module, card: ModelCard, device: torch.device) -> None:
        fused = fuse_for_inference(copy.deepcopy(model)).to(device).eval()
        self.channels_last = device.type == "cpu"
        self.model = fused.to(memory_format=torch.channels_last) if self.channels_last else fused
        self.card = card
        self.device = device
        allowed = torch.from_numpy(allowed_table())  # (crop codes, K)
        self.crop_bias = torch.where(allowed, 0.0, MASKED_LOGIT).to(device)
        norm = card.normalisation
        self.mean = np.asarray(norm.mean, np.float32)[:, None, None]
        self.std = np.asarray(norm.std, np.float32)[:, None, None]

    def features(self, bands: np.ndarray, reference: np.ndarray | None = None,
                 valid: np.ndarray | None = None) -> np.ndarray:
        """Normalised features of a ``(B, H, W)`` block, 0 at nodata (same values as ``Normalisation.apply``).

        ``valid`` is ``valid_mask(bands)`` if the caller has it already.
        """
        card = self.card
        feats = compute_features(bands, card.bands, card.indices, card.relative_indices, reference)
        np.subtract(feats, self.mean, out=feats)
        np.divide(feats, self.std, out=feats)
        feats[:, ~(valid_mask(bands) if valid is None else valid)] = 0.0
        return feats

    @torch.inference_mode()
    def probabilities(self, feats: np.ndarray, crops: np.ndarray) -> torch.Tensor:
        """``(N, K, H, W)`` crop-masked softmax probabilities of ``(N, H, W, C)`` features.

        Features come pixel-major (NHWC), which is the model's ``channels_last``
        memory on CPU. Impossible classes get ``MASKED_LOGIT`` added to their
        logit (a per-crop bias row looked up with ``embedding``), which gives the
        same probabilities as :func:`model.mask_logits` (their ``exp`` underflows
        to 0 either way) at a third of the cost.
        """
        x = torch.from_numpy(feats).to(self.device).permute(0, 3, 1, 2)
        if not self.channels_last:
            x = x.contiguous()
        c = torch.from_numpy(crops).to(self.device)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            logits = self.model(x)
        logits = logits.float().contiguous()
        logits += torch.nn.functional.embedding(c, self.crop_bias).permute(0, 3, 1, 2)
        return torch.softmax(logits, dim=1)


def _argmax_classes(prob: torch.Tensor) -> np.ndarray:
    """``prob.argmax(0)`` of a ``(K, H, W)`` block as uint8 (first maximum wins), by a running comparison.

    Faster on CPU than a strided reduction over the leading axis.
    """
    best = prob[0].clone()
    out = torch.zeros(prob.shape[1:], dtype=torch.uint8, device=prob.device)
    for k in range(1, prob.shape[0]):
        better = prob[k] > best
        torch.maximum(best, prob[k], out=best)
        out.masked_fill_(better, k)
    return out.cpu().numpy()


@dataclass(frozen=True)
class _WindowRow:
    """Valid-pixel mask, field index, crop codes and model features of one window row."""

    valid: np.ndarray
    field_index: np.ndarray
    crops: np.ndarray
    features: np.ndarray


def stream_strips(src: rasterio.DatasetReader, positions: Sequence[int], predictor: FastPredictor,
                  fields: Sequence[Field] | None, window: int, overlap: int, batch_windows: int,
                  times: StageTimes | None = None) -> Iterator[Strip]:
    """Yield final output strips of scene ``src`` top to bottom (see :mod:`engine`'s docstring)."""
    times = times or StageTimes()
    card = predictor.card
    with times.stage("medians"):
        table = median_table(src, positions, card, fields) if card.relative_indices else None
    height, width, scene_transform = src.height, src.width, src.transform
    n_classes = len(card.classes)
    row_starts, col_starts = window_starts(height, window, overlap), window_starts(width, window, overlap)
    dev = predictor.device
    w_t = torch.from_numpy(ramp_weights(window, overlap)).to(dev)
    disease_t = torch.tensor(list(DISEASE_IDS), device=dev)
    acc = torch.zeros((n_classes, window, width), device=dev)
    wsum = torch.zeros((window, width), device=dev)
    wc = min(window, width)

    def prepare(r: int) -> _WindowRow:
        """Read and featurise the window row at scene row ``r`` (runs on the worker thread)."""
        with times.stage("read (parallel)"):
            bands = read_rows(src, positions, r, window)
        with times.stage("features (parallel)"):
            fidx, crops = field_raster(fields, window, width, window_transform(Window(0, r, width, window),
                                                                               scene_transform))
            reference = table[fidx].transpose(2, 0, 1) if table is not None else None
            valid = valid_mask(bands)
            return _WindowRow(valid, fidx, crops, predictor.features(bands, reference, valid))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="window-rows") as pool:
        pending: Future[_WindowRow] = pool.submit(prepare, row_starts[0])
        for k, r in enumerate(row_starts):  # acc[:, 0] is scene row r: rows above r were yielded already
            with times.stage("wait for rows"):
                row = pending.result()
            if k + 1 < len(row_starts):
                pending = pool.submit(prepare, row_starts[k + 1])
            fidx, crops, feats = row.field_index, row.crops, row.features
            for b0 in range(0, len(col_starts), batch_windows):
                cols = col_starts[b0 : b0 + batch_windows]
                with times.stage("batch"):
                    fx = np.zeros((len(cols), window, window, feats.shape[0]), np.float32)
                    cx = np.full((len(cols), window, window), CROP_NONE, np.int64)
                    for j, c in enumerate(cols):
                        fx[j, :, :wc] = feats[:, :, c : c + wc].transpose(1, 2, 0)
                        cx[j, :, :wc] = crops[:, c : c + wc]
                with times.stage("model"):
                    probs = predictor.probabilities(fx, cx)
                with times.stage("blend"), torch.inference_mode():
                    for j, c in enumerate(cols):
                        acc[:, :, c : c + wc].addcmul_(probs[j, :, :, :wc], w_t[:, :wc])
                        wsum[:, c : c + wc] += w_t[:, :wc]
            n_final = (row_starts[k + 1] if k + 1 < len(row_starts) else height) - r
            with times.stage("blend"), torch.inference_mode():
                prob = acc[:, :n_final] / wsum[:n_final].clamp_min(1e-12)
                classes = _argmax_classes(prob)
                dprob = prob.index_select(0, disease_t).sum(dim=0).cpu().numpy().astype(np.float32)
                ok = row.valid[:n_final]
                classes[~ok] = IGNORE
                dprob[~ok] = np.nan
                acc = torch.roll(acc, -n_final, dims=1)
                acc[:, -n_final:] = 0.0
                wsum = torch.roll(wsum, -n_final, dims=0)
                wsum[-n_final:] = 0.0
            yield Strip(r, classes, dprob, fidx[:n_final].copy())
