"""Model, crop masking, model card round trip and safetensors loading, metrics."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from pipeline.detection.card import CARD_NAME, WEIGHTS_NAME, ModelCard, load_model, read_card, save_model_dir
from pipeline.detection.classes import CLASS_NAMES, CROP_NONE, CROP_UNKNOWN, allowed_table
from pipeline.detection.config import DetectionConfig, detection_config
from pipeline.detection.engine import ramp_weights, window_starts
from pipeline.detection.metrics import MetricAccumulator, flag_fields, summarise
from pipeline.detection.model import CompactUNet, build_model, mask_logits
from pipeline.errors import ConfigError, InputError, UnknownNameError

GINGER = [5, 6, 7]
RICE = [1, 2, 3, 4]


def test_compact_unet_shapes():
    net = CompactUNet(8, 8, base=8).eval()
    with torch.no_grad():
        out = net(torch.zeros(2, 8, 64, 96))
    assert out.shape == (2, 8, 64, 96)
    with pytest.raises(UnknownNameError):
        build_model("resnet-9000", 8, 8, 8)


def test_crop_masking_never_calls_ginger_on_rice():
    logits = torch.zeros(1, 8, 4, 4)
    logits[:, GINGER] = 50.0  # the network screams "ginger disease" everywhere
    crops = torch.tensor([[[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 3, 3], [0, 0, 3, 3]]])
    pred = mask_logits(logits, crops).argmax(1)[0].numpy()
    assert not np.isin(pred[:2, :2], GINGER).any()  # rice pixels
    assert np.isin(pred[:2, 2:], GINGER).all()  # ginger pixels may be ginger
    assert np.all(pred[2:, :2] == 0)  # outside fields: background only
    assert np.isin(pred[2:, 2:], GINGER).all()  # unknown crop: anything goes
    table = allowed_table()
    assert table[CROP_NONE].tolist() == [True] + [False] * 7
    assert table[CROP_UNKNOWN].all()


def test_model_card_round_trip_and_safetensors(tmp_path):
    cfg = DetectionConfig(base_channels=8)
    card = ModelCard("compact-unet", 8, CLASS_NAMES, cfg.bands, "rededge-mx", cfg.indices, tuple([0.1] * 8),
                     tuple([0.2] * 8), 128, 0.1, "sha256:abc", "unknown", "run123", {"val_miou": 0.5},
                     {"seed": 0})
    net = build_model("compact-unet", 8, 8, 8).eval()
    save_model_dir(tmp_path, card, net)
    assert read_card(tmp_path) == card
    raw = (tmp_path / WEIGHTS_NAME).read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])  # safetensors: a JSON header then raw tensors, no pickle
    assert "enc1.0.weight" in header
    assert set(load_file(str(tmp_path / WEIGHTS_NAME))) == set(net.state_dict())
    loaded, card2 = load_model(tmp_path)
    x = torch.randn(1, 8, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x))
    assert card2.normalisation.mean == card.mean


def test_model_card_rejects_bad_content(tmp_path):
    (tmp_path / CARD_NAME).write_text(json.dumps({"architecture": "compact-unet", "surprise": 1}))
    with pytest.raises(InputError, match="missing key"):
        read_card(tmp_path)


def test_config_validation_lists_every_problem():
    with pytest.raises(ConfigError) as err:
        detection_config({"chip_size": 30, "overlap": 500, "epochs": 0})
    msg = str(err.value)
    assert "chip_size" in msg and "overlap" in msg and "epochs" in msg
    with pytest.raises(ConfigError, match="unknown key"):
        detection_config({"chips": 3})


def test_window_grid_and_ramp():
    assert window_starts(100, 64, 16) == [0, 36]
    assert window_starts(40, 64, 16) == [0]
    starts = window_starts(1000, 256, 32)
    assert starts[0] == 0 and starts[-1] == 1000 - 256
    assert all(b - a <= 224 for a, b in itertools.pairwise(starts))
    w = ramp_weights(64, 16)
    assert w.min() > 0 and w.max() == 1.0 and np.allclose(w, w.T)


def _two_field_flags(truth: list[list[int]], pred: list[list[int]], min_area_m2: float):
    """Flags and summary of fields A (top row) and B (bottom row), 1 m² pixels, 20 % minimum share."""
    acc = MetricAccumulator()
    t, p = np.array(truth, np.uint8), np.array(pred, np.uint8)
    fidx = np.array([[1, 1, 1, 1], [2, 2, 2, 2]], np.int32)
    acc.add(t, p, fidx)
    acc.add_patches(t, p, fidx)
    flags = flag_fields(acc, {1: ("A", "rice"), 2: ("B", "ginger")}, pixel_area_m2=1.0, min_area_m2=min_area_m2,
                        min_fraction=0.2)
    return {f.field_id: f for f in flags}, summarise(acc, flags)


def test_field_flagging_rule():
    by_id, summary = _two_field_flags([[1, 1, 2, 2], [5, 5, 5, 5]], [[1, 2, 2, 2], [5, 6, 5, 5]], min_area_m2=1.0)
    assert by_id["A"].diseased and by_id["A"].flagged
    assert not by_id["B"].diseased and by_id["B"].flagged  # 1 of 4 px = 25 % >= 20 %: a false alarm
    assert summary["fields_diseased_flagged"] == 1 and summary["fields_false_alarms"] == 1
    assert summary["fields_healthy"] == 1 and summary["fields_minor"] == 0
    assert summary["disease_iou"] == pytest.approx(2 / 4)
    assert summary["iou"]["blast"] == pytest.approx(2 / 3, abs=1e-3)


def test_field_with_labelled_disease_below_the_rule_is_minor_not_healthy():
    """A flag on a field whose labelled disease is real but under the rule is neither a hit nor a false alarm."""
    # field A: one labelled blast pixel (below the 2 m² rule), three predicted
    by_id, summary = _two_field_flags([[1, 1, 1, 2], [5, 5, 5, 5]], [[1, 2, 2, 2], [5, 5, 5, 5]], min_area_m2=2.0)
    assert by_id["A"].flagged and not by_id["A"].diseased and not by_id["A"].healthy
    assert by_id["B"].healthy and not by_id["B"].flagged
    assert (summary["fields_diseased"], summary["fields_healthy"], summary["fields_minor"]) == (0, 1, 1)
    assert summary["fields_false_alarms"] == 0 and summary["fields_minor_flagged"] == 1
