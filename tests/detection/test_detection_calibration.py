"""Temperature scaling of the disease probability: fitted on held-out pixels, ECE lower after."""

from __future__ import annotations

import numpy as np
import torch

from pipeline.detection.calibration import calibrate, expected_calibration_error


def test_ece_of_a_perfectly_calibrated_and_an_overconfident_forecast():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = rng.uniform(0, 1, p.size) < p
    assert expected_calibration_error(p, y) < 0.01
    assert expected_calibration_error(np.where(p > 0.5, 0.99, 0.01), y) > 0.2


def test_temperature_fixes_an_overconfident_model_and_keeps_the_argmax():
    rng = np.random.default_rng(1)
    n, k = 50_000, 3  # classes: 0 healthy, 1 and 2 diseases
    truth = torch.from_numpy(rng.integers(0, k, n))
    clean = torch.nn.functional.one_hot(truth, k).double() * 1.0 + torch.from_numpy(rng.normal(0, 1.0, (n, k)))
    logits = clean * 6.0  # the same ranking, far too confident
    result = calibrate(logits, truth, disease_ids=(1, 2))
    assert result["temperature"] > 2.0
    assert result["ece_after"] < result["ece_before"] / 3
    assert torch.equal((logits / result["temperature"]).argmax(1), logits.argmax(1))
