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
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import rasterio
import torch
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from pipeline.core.fields import Field
from pipeline.detection.card import ModelCard
from pipeline.detection.classes import CROP_NONE, DISEASE_IDS, IGNORE, allowed_table
from pipeline.detection.engine import (
    Strip,
    field_raster,
    median_table,
    open_scene,
    ramp_weights,
    read_rows,
    window_starts,
)
from pipeline.detection.features import feature_tensor, valid_tensor
from pipeline.detection.model import MASKED_LOGIT, fuse_for_inference
from pipeline.detection.resample import ResampledScene


@dataclass(frozen=True)
class InferenceSettings:
    """Window geometry, batching and I/O parallelism of inference.

    Attributes:
        window: Window side in pixels.
        overlap: Overlap of neighbouring windows in pixels (blended with linear ramps).
        batch_windows: Windows per forward pass.
        min_hotspot_area_m2: Hotspots smaller than this are dropped (specks).
        device: torch device (``None``: CUDA when present, else the CPU).
        readers: Window rows read and featurised in parallel (``None``: 1 on the CPU,
            where the model needs the cores, up to 8 on CUDA).
        decode_threads: GDAL threads decoding the blocks of one read (``None``: all CPUs).
    """

    window: int = 256
    overlap: int = 32
    batch_windows: int = 8
    min_hotspot_area_m2: float = 0.5
    device: str | None = None
    readers: int | None = None
    decode_threads: int | None = None

    def reader_count(self, device: torch.device) -> int:
        """``readers``, or its default for ``device``."""
        if self.readers:
            return max(1, self.readers)
        return min(8, os.cpu_count() or 1) if device.type == "cuda" else 1


@dataclass
class StageTimes:
    """Wall seconds per inference stage (read, features, model, blend, write, hotspots, …)."""

    seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the wall time of the ``with`` block to ``name`` (safe from several threads)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - t0
            with self._lock:
                self.seconds[name] = self.seconds.get(name, 0.0) + elapsed

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
        self.temperature = card.temperature
        allowed = torch.from_numpy(allowed_table())  # (crop codes, K)
        self.crop_bias = torch.where(allowed, 0.0, MASKED_LOGIT).to(device)
        norm = card.normalisation
        self.mean = torch.tensor(norm.mean, dtype=torch.float32, device=device)[:, None, None]
        self.std = torch.tensor(norm.std, dtype=torch.float32, device=device)[:, None, None]

    def features(self, bands: torch.Tensor, reference: torch.Tensor | None, valid: torch.Tensor) -> torch.Tensor:
        """Normalised features of a ``(B, H, W)`` block on its device, 0 at nodata (as ``Normalisation.apply``).

        ``valid`` is :func:`features.valid_tensor` of ``bands`` (1 valid, 0 nodata).
        """
        card = self.card
        feats = feature_tensor(bands, card.bands, card.indices, card.relative_indices, reference)
        feats.sub_(self.mean).div_(self.std)
        return feats.mul_(valid)

    @torch.inference_mode()
    def probabilities(self, feats: torch.Tensor, crops: torch.Tensor) -> torch.Tensor:
        """``(N, K, H, W)`` crop-masked softmax probabilities of ``(N, H, W, C)`` features on the device.

        Features come pixel-major (NHWC), which is the model's ``channels_last``
        memory on CPU. Impossible classes get ``MASKED_LOGIT`` added to their
        logit (a per-crop bias row looked up with ``embedding``), which gives the
        same probabilities as :func:`model.mask_logits` (their ``exp`` underflows
        to 0 either way) at a third of the cost.
        """
        x = feats.permute(0, 3, 1, 2)
        if not self.channels_last:
            x = x.contiguous()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            logits = self.model(x)
        logits = logits.float().contiguous()
        logits += torch.nn.functional.embedding(crops, self.crop_bias).permute(0, 3, 1, 2)
        if self.temperature != 1.0:  # calibration (card.calibration): softmax(z / T), same argmax
            logits /= self.temperature
        return torch.softmax(logits, dim=1)


def _argmax_classes(prob: torch.Tensor) -> torch.Tensor:
    """``prob.argmax(0)`` of a ``(K, H, W)`` block as uint8 (first maximum wins), by a running comparison.

    Faster on CPU than a strided reduction over the leading axis.
    """
    best = prob[0].clone()
    out = torch.zeros(prob.shape[1:], dtype=torch.uint8, device=prob.device)
    for k in range(1, prob.shape[0]):
        better = prob[k] > best
        torch.maximum(best, prob[k], out=best)
        out.masked_fill_(better, k)
    return out


@dataclass(frozen=True)
class _WindowRow:
    """One window row, ready for the model: everything on the predictor's device except ``field_index``."""

    valid: torch.Tensor  # 1.0 valid, 0.0 nodata
    field_index: np.ndarray
    crops: torch.Tensor
    features: torch.Tensor


class _RowReader:
    """Reads and featurises window rows on ``readers`` worker threads, ``readers`` rows ahead.

    Each thread opens the scene once (a rasterio dataset is not shared between
    threads); GDAL decoding and the tensor maths release the GIL. On CUDA the
    bands are read into pinned host memory and copied asynchronously.
    """

    def __init__(self, src: rasterio.DatasetReader, positions: Sequence[int], predictor: FastPredictor,
                 fields: Sequence[Field] | None, table: np.ndarray | None, settings: InferenceSettings,
                 times: StageTimes) -> None:
        # a scene read on the model's working grid is reopened on that grid by each worker thread
        self.grid = src.grid if isinstance(src, ResampledScene) else None
        self.path = src.scene_path if isinstance(src, ResampledScene) else src.name
        self.positions, self.predictor = list(positions), predictor
        self.fields, self.window, self.times = fields, settings.window, times
        self.decode_threads = settings.decode_threads
        self.ahead = settings.reader_count(predictor.device)
        self.width, self.transform = src.width, src.transform
        self.table = torch.from_numpy(table).to(predictor.device) if table is not None else None
        self.pin = predictor.device.type == "cuda"
        self.local = threading.local()
        self.opened: list[rasterio.DatasetReader] = []
        self.pool = ThreadPoolExecutor(max_workers=self.ahead, thread_name_prefix="window-rows")

    def _read(self, r: int) -> torch.Tensor:
        """Bands of rows ``[r, r + window)`` (NaN below the scene and at nodata), pinned on CUDA.

        The tensor itself (not a view of it) is copied to the device, so the
        pinned-memory allocator knows when an asynchronous copy of it is done.
        """
        if not hasattr(self.local, "src"):
            self.local.src = open_scene(self.path, self.decode_threads, self.grid)
            self.opened.append(self.local.src)
        bands = torch.empty((len(self.positions), self.window, self.width), pin_memory=self.pin)
        read_rows(self.local.src, self.positions, r, self.window, bands.numpy())
        return bands

    def prepare(self, r: int) -> _WindowRow:
        """Read and featurise the window row at scene row ``r`` (runs on a worker thread)."""
        dev = self.predictor.device
        with self.times.stage("read (parallel)"):
            bands = self._read(r).to(dev, non_blocking=True)
        with self.times.stage("features (parallel)"), torch.inference_mode():
            fidx, crops = field_raster(self.fields, self.window, self.width,
                                       window_transform(Window(0, r, self.width, self.window), self.transform))
            fidx_t = torch.from_numpy(fidx).to(dev, non_blocking=self.pin)
            reference = self.table[fidx_t].permute(2, 0, 1) if self.table is not None else None
            valid = valid_tensor(bands)
            feats = self.predictor.features(bands, reference, valid)
            crops_t = torch.from_numpy(crops).to(dev, non_blocking=self.pin).long()
            return _WindowRow(valid, fidx, crops_t, feats)

    def rows(self, starts: Sequence[int]) -> Iterator[_WindowRow]:
        """The prepared window rows at ``starts``, in order."""
        pending: deque[Future[_WindowRow]] = deque(self.pool.submit(self.prepare, r) for r in starts[: self.ahead])
        try:
            for k in range(len(starts)):
                with self.times.stage("wait for rows"):
                    row = pending.popleft().result()
                if k + self.ahead < len(starts):
                    pending.append(self.pool.submit(self.prepare, starts[k + self.ahead]))
                yield row
        finally:
            for f in pending:
                f.cancel()
            self.pool.shutdown(wait=True)
            for dataset in self.opened:
                dataset.close()


def stream_strips(src: rasterio.DatasetReader, positions: Sequence[int], predictor: FastPredictor,
                  fields: Sequence[Field] | None, settings: InferenceSettings,
                  times: StageTimes | None = None) -> Iterator[Strip]:
    """Yield final output strips of scene ``src`` top to bottom (see :mod:`engine`'s docstring).

    ``src`` comes from :func:`engine.open_scene`; a scene at another GSD than the model's is opened
    on the model's working grid (:func:`engine.model_grid`) and the strips are on that grid.

    Window rows are read and featurised by ``settings.readers`` worker threads
    (see :class:`_RowReader`); model, blending and the class argmax run on the
    predictor's device, and only the final strips come back to the host.
    """
    times = times or StageTimes()
    window, overlap, batch_windows = settings.window, settings.overlap, settings.batch_windows
    card = predictor.card
    with times.stage("medians"):
        table = median_table(src, positions, card, fields) if card.relative_indices else None
    height, width = src.height, src.width
    n_classes = len(card.classes)
    row_starts, col_starts = window_starts(height, window, overlap), window_starts(width, window, overlap)
    dev = predictor.device
    w_t = torch.from_numpy(ramp_weights(window, overlap)).to(dev)
    disease_t = torch.tensor(list(DISEASE_IDS), device=dev)
    acc = torch.zeros((n_classes, window, width), device=dev)
    wsum = torch.zeros((window, width), device=dev)
    wc = min(window, width)
    reader = _RowReader(src, positions, predictor, fields, table, settings, times)
    for k, (r, row) in enumerate(zip(row_starts, reader.rows(row_starts), strict=True)):
        # acc[:, 0] is scene row r: rows above r were yielded already
        feats_hwc = row.features.permute(1, 2, 0)
        for b0 in range(0, len(col_starts), batch_windows):
            cols = col_starts[b0 : b0 + batch_windows]
            with times.stage("batch"), torch.inference_mode():
                if wc == window:  # every window lies inside the scene: no padding to clear
                    fx = torch.empty((len(cols), window, window, feats_hwc.shape[2]), device=dev)
                    cx = torch.empty((len(cols), window, window), dtype=torch.int64, device=dev)
                else:
                    fx = torch.zeros((len(cols), window, window, feats_hwc.shape[2]), device=dev)
                    cx = torch.full((len(cols), window, window), CROP_NONE, dtype=torch.int64, device=dev)
                for j, c in enumerate(cols):
                    fx[j, :, :wc] = feats_hwc[:, c : c + wc]
                    cx[j, :, :wc] = row.crops[:, c : c + wc]
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
            dprob = prob.index_select(0, disease_t).sum(dim=0)
            invalid = row.valid[:n_final] == 0
            classes.masked_fill_(invalid, IGNORE)
            dprob.masked_fill_(invalid, float("nan"))
            acc = torch.roll(acc, -n_final, dims=1)
            acc[:, -n_final:] = 0.0
            wsum = torch.roll(wsum, -n_final, dims=0)
            wsum[-n_final:] = 0.0
        with times.stage("to host"):
            strip = Strip(r, classes.cpu().numpy(), dprob.cpu().numpy(), row.field_index[:n_final].copy())
        yield strip
