"""The inference engine (streaming.stream_strips) yields the strips of a plain reference implementation."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import numpy as np
import rasterio
import torch
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

from pipeline.detection.card import load_model
from pipeline.detection.classes import CROP_NONE, DISEASE_IDS, IGNORE
from pipeline.detection.engine import (
    Strip,
    field_raster,
    median_table,
    pick_device,
    ramp_weights,
    read_rows,
    window_starts,
)
from pipeline.detection.features import compute_features, valid_mask
from pipeline.detection.model import fuse_for_inference, mask_logits
from pipeline.detection.scenes import band_positions, read_fields, scene_bands
from pipeline.detection.streaming import FastPredictor, InferenceSettings, StageTimes, stream_strips


def _reference_strips(src, positions, model, card, device, fields, window, overlap, batch_windows) -> Iterator[Strip]:
    """The engine's algorithm written plainly: NCHW model, ``mask_logits``, ``argmax``, no worker thread."""
    net = fuse_for_inference(copy.deepcopy(model)).to(device).eval()
    table = median_table(src, positions, card, fields) if card.relative_indices else None
    height, width = src.height, src.width
    row_starts, col_starts = window_starts(height, window, overlap), window_starts(width, window, overlap)
    w_t = torch.from_numpy(ramp_weights(window, overlap))
    disease_t = torch.tensor(list(DISEASE_IDS))
    acc = torch.zeros((len(card.classes), window, width))
    wsum = torch.zeros((window, width))
    wc = min(window, width)
    for k, r in enumerate(row_starts):
        bands = read_rows(src, positions, r, window)
        fidx, crops = field_raster(fields, window, width, window_transform(Window(0, r, width, window), src.transform))
        reference = table[fidx].transpose(2, 0, 1) if table is not None else None
        feats = compute_features(bands, card.bands, card.indices, card.relative_indices, reference)
        feats = card.normalisation.apply(feats, valid_mask(bands))
        for b0 in range(0, len(col_starts), batch_windows):
            cols = col_starts[b0 : b0 + batch_windows]
            fx = np.zeros((len(cols), feats.shape[0], window, window), np.float32)
            cx = np.full((len(cols), window, window), CROP_NONE, np.int64)
            for j, c in enumerate(cols):
                fx[j, :, :, :wc] = feats[:, :, c : c + wc]
                cx[j, :, :wc] = crops[:, c : c + wc]
            with torch.inference_mode():
                logits = mask_logits(net(torch.from_numpy(fx)).float(), torch.from_numpy(cx))
                probs = torch.softmax(logits / card.temperature, dim=1)  # calibrated as the card says
                for j, c in enumerate(cols):
                    acc[:, :, c : c + wc] += probs[j, :, :, :wc] * w_t[:, :wc]
                    wsum[:, c : c + wc] += w_t[:, :wc]
        n_final = (row_starts[k + 1] if k + 1 < len(row_starts) else height) - r
        with torch.inference_mode():
            prob = acc[:, :n_final] / wsum[:n_final].clamp_min(1e-12)
            classes = prob.argmax(0).to(torch.uint8).numpy()
            dprob = prob.index_select(0, disease_t).sum(dim=0).numpy().astype(np.float32)
            acc = torch.roll(acc, -n_final, dims=1)
            acc[:, -n_final:] = 0.0
            wsum = torch.roll(wsum, -n_final, dims=0)
            wsum[-n_final:] = 0.0
        ok = valid_mask(bands[:, :n_final])
        classes[~ok] = IGNORE
        dprob[~ok] = np.nan
        yield Strip(r, classes, dprob, fidx[:n_final].copy())


def test_stream_strips_match_reference_engine(tiny_model, toy_surveys):
    survey = toy_surveys[1]
    model, card = load_model(tiny_model)
    device = pick_device("cpu")
    info = scene_bands(survey / "scene.tif")
    positions = band_positions(info, card.bands, card.sensor, survey / "scene.tif")
    fields = read_fields(survey / "fields.geojson", info.crs)
    times = StageTimes()
    with rasterio.open(survey / "scene.tif") as src:
        reference = list(_reference_strips(src, positions, model, card, device, fields, 64, 16, 3))
        settings = InferenceSettings(window=64, overlap=16, batch_windows=3)
        fast = list(stream_strips(src, positions, FastPredictor(model, card, device), fields, settings, times))
    assert [s.row0 for s in fast] == [s.row0 for s in reference]
    for a, b in zip(fast, reference, strict=True):
        np.testing.assert_array_equal(a.field_index, b.field_index)
        assert np.mean(a.classes != b.classes) < 1e-3  # float rounding may flip exact ties only
        np.testing.assert_allclose(a.disease_probability, b.disease_probability, atol=1e-4)
    assert {"model", "blend"} <= set(times.seconds)


def test_inference_field_medians_sample_the_pixels_training_samples(tiny_model, toy_surveys):
    """No train/serve skew: at a coarse sampling step, inference's field medians equal training's."""
    from pipeline.detection.config import DetectionConfig
    from pipeline.detection.features import sample_step
    from pipeline.detection.scenes import load_labelled_scene
    from pipeline.detection.train import scene_median_table

    survey = toy_surveys[0]
    _, card = load_model(tiny_model)
    assert card.relative_indices, "the tiny model must use field-relative indices for this test"
    scene = load_labelled_scene(survey, card.bands)
    info = scene_bands(survey / "scene.tif")
    positions = band_positions(info, card.bands, card.sensor, survey / "scene.tif")
    fields = read_fields(survey / "fields.geojson", info.crs)
    height, width = scene.labels.shape
    max_pixels = height * width / 9.0  # step 3: every third row and column
    step = sample_step(height, width, max_pixels)
    assert step == 3
    cfg = DetectionConfig(bands=card.bands, indices=card.indices, relative_indices=card.relative_indices)
    with rasterio.open(survey / "scene.tif") as src:
        served = median_table(src, positions, card, fields, max_pixels=max_pixels)
    trained = scene_median_table(scene, cfg, max_pixels=max_pixels)
    np.testing.assert_array_equal(served, trained)


def test_parallel_readers_give_the_same_strips(tiny_model, toy_surveys):
    """Several reader threads (each with its own dataset, GDAL decoding threads) change nothing in the output."""
    survey = toy_surveys[1]
    model, card = load_model(tiny_model)
    predictor = FastPredictor(model, card, pick_device("cpu"))
    info = scene_bands(survey / "scene.tif")
    positions = band_positions(info, card.bands, card.sensor, survey / "scene.tif")
    fields = read_fields(survey / "fields.geojson", info.crs)
    runs = []
    for readers, decode_threads in ((1, 1), (3, None)):
        settings = InferenceSettings(window=64, overlap=16, batch_windows=2, readers=readers,
                                     decode_threads=decode_threads)
        with rasterio.open(survey / "scene.tif") as src:
            runs.append(list(stream_strips(src, positions, predictor, fields, settings)))
    assert len(runs[0]) == len(runs[1]) > 3
    for a, b in zip(*runs, strict=True):
        assert a.row0 == b.row0
        np.testing.assert_array_equal(a.classes, b.classes)
        np.testing.assert_array_equal(a.disease_probability, b.disease_probability)
