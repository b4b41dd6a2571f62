"""Sliding-window inference in bounded memory: the geometry, blending, inputs and output of
:func:`streaming.stream_strips`, the one inference path (``predict``, ``evaluate``).

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

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import torch
from affine import Affine
from rasterio.windows import Window

from pipeline.core.fields import Field
from pipeline.detection.card import ModelCard
from pipeline.detection.classes import CROP_NONE, CROP_UNKNOWN
from pipeline.detection.features import field_median_table, sample_step
from pipeline.detection.resample import Grid, ResampledScene, open_on_grid, working_grid
from pipeline.detection.scenes import burn_fields


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


def open_scene(path: str | Path, decode_threads: int | None = None,
               grid: Grid | None = None) -> rasterio.DatasetReader | ResampledScene:
    """Open a scene for reading with GDAL's multi-threaded block decoding, on ``grid`` if given.

    GDAL's GTiff driver decodes the blocks of one read on ``decode_threads``
    threads (open option ``NUM_THREADS``; all CPUs when ``None``): about 2.3×
    faster on a DEFLATE scene even on 2 cores, and what keeps a GPU fed on a
    many-core host. With ``grid`` (the model's working grid, :func:`resample.working_grid`)
    the scene is read resampled onto it (:func:`resample.open_on_grid`).
    """
    threads = str(decode_threads) if decode_threads else "ALL_CPUS"
    if grid is not None:
        return open_on_grid(path, grid, NUM_THREADS=threads)
    return rasterio.open(path, NUM_THREADS=threads)


def model_grid(src: rasterio.DatasetReader, card: ModelCard) -> Grid | None:
    """The working grid of ``card`` (its ``gsd_m``) over scene ``src``; ``None`` when the scene is at that GSD."""
    return working_grid(src.transform, src.width, src.height, card.gsd_m, f"scene {src.name!r}")


def read_rows(src: rasterio.DatasetReader, positions: Sequence[int], row: int, n_rows: int,
              out: np.ndarray | None = None) -> np.ndarray:
    """Bands ``positions`` of rows ``[row, row + n_rows)`` as float32, NaN for nodata and below the scene.

    Reads only in-bounds rows (a plain windowed read; rasterio's boundless reads
    go through a slower VRT) and pads with NaN. ``out``, if given, is a
    ``(len(positions), n_rows, width)`` float32 array to fill (e.g. pinned memory).
    """
    inside = max(0, min(n_rows, src.height - row))
    if out is None:
        out = np.empty((len(positions), n_rows, src.width), np.float32)
    out[:, inside:] = np.nan
    if inside:
        src.read(list(positions), window=Window(0, row, src.width, inside), out=out[:, :inside])
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
    return burn_fields(fields, (rows, cols), transform)


def sampled_grid_transform(transform: Affine, step: int) -> Affine:
    """Transform of the grid of every ``step``-th pixel (rows/cols ``0, step, 2·step, …``).

    Coarse pixel ``u`` is centred on full-resolution pixel ``u·step`` (centre
    ``u·step + ½``), so rasterising fields on this grid gives the same field
    index as slicing a full-resolution rasterisation ``[::step, ::step]``.
    """
    offset = 0.5 - step / 2.0
    return transform * Affine.translation(offset, offset) * Affine.scale(step)


def read_sampled(src: rasterio.DatasetReader, positions: Sequence[int], step: int,
                 max_chunk_values: int = 16_000_000) -> np.ndarray:
    """``read(positions)[:, ::step, ::step]`` as float32 (NaN for nodata), read in bounded row chunks.

    Exactly the pixels training samples from an in-memory stack, whatever the
    scene size; memory is the output plus one chunk of at most
    ``max_chunk_values`` values.
    """
    height, width = src.height, src.width
    out = np.empty((len(positions), -(-height // step), -(-width // step)), np.float32)
    rows_per_chunk = max(step, max_chunk_values // max(1, width * len(positions)) // step * step)
    for r0 in range(0, height, rows_per_chunk):
        n = min(rows_per_chunk, height - r0)
        out[:, r0 // step : r0 // step + -(-n // step)] = read_rows(src, positions, r0, n)[:, ::step, ::step]
    return out


def median_table(src: rasterio.DatasetReader, positions: Sequence[int], card: ModelCard,
                 fields: Sequence[Field] | None, max_pixels: float = 4.0e6) -> np.ndarray:
    """Field medians of the card's relative indices on every ``sample_step``-th pixel.

    The same pixels as training's ``stack[:, ::step, ::step]`` (no train/serve skew).
    """
    step = sample_step(src.height, src.width, max_pixels)
    stack = read_sampled(src, positions, step)
    fidx, _ = field_raster(fields, stack.shape[1], stack.shape[2], sampled_grid_transform(src.transform, step))
    return field_median_table(stack, card.bands, card.relative_indices, fidx,
                              len(fields or ()))
