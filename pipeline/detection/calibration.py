"""Probability calibration: temperature scaling fitted on held-out fields, and its error measure.

Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one scalar
``T > 0`` divides every logit, ``p = softmax(z / T)``; it is fitted by minimising the binary negative
log-likelihood of the disease probability ``q`` (the probability the reports use) on held-out
pixels (validation fields never trained on, and field observations when present). The class
argmax is unchanged, so maps and IoU stay as they are; only the probabilities — and the report's
confidence words derived from them — change.

Expected calibration error (Naeini et al. 2015; Guo et al. 2017) of the probability the reports
use, the *disease probability* ``q = Σ_{k ∈ disease} p_k`` against "the pixel is diseased": pixels
are put in ``bins`` equal-width bins of ``q``; ``ECE = Σ_b (n_b / N) · |mean(y)_b − mean(q)_b|``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

#: Equal-width bins of the ECE (Guo et al. use 15).
ECE_BINS = 15


def expected_calibration_error(prob: np.ndarray, truth: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of binary probabilities ``prob`` (N,) against 0/1 outcomes ``truth`` (N,)."""
    prob = np.asarray(prob, np.float64).ravel()
    truth = np.asarray(truth, np.float64).ravel()
    if prob.size == 0:
        return 0.0
    which = np.minimum((prob * bins).astype(np.int64), bins - 1)
    n = np.bincount(which, minlength=bins)
    conf = np.bincount(which, weights=prob, minlength=bins)
    acc = np.bincount(which, weights=truth, minlength=bins)
    used = n > 0
    return float(np.sum(np.abs(acc[used] - conf[used])) / prob.size)


def disease_probability(logits: torch.Tensor, disease_ids: Sequence[int], temperature: float = 1.0) -> np.ndarray:
    """``Σ_{k ∈ disease} softmax(z / T)_k`` of ``(N, K)`` logits, as float64 numpy."""
    p = torch.softmax(logits.double() / temperature, dim=1)
    return p[:, list(disease_ids)].sum(1).cpu().numpy()


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, disease_ids: Sequence[int],
                    weights: torch.Tensor | None = None, steps: int = 100) -> float:
    """The ``T`` minimising the (weighted) binary NLL of ``q = Σ_disease softmax(logits / T)`` on ``labels``.

    Optimised over ``log T`` (so ``T`` stays positive) with L-BFGS, in float64; deterministic.

    Args:
        logits: ``(N, K)`` crop-masked logits of held-out pixels.
        labels: ``(N,)`` class ids.
        weights: Optional ``(N,)`` pixel weights (field observations count more than one pixel).
        steps: L-BFGS iterations.
    """
    z = logits.detach().double()
    y = torch.as_tensor(np.isin(labels.cpu().numpy(), list(disease_ids)), dtype=torch.float64)
    ids = list(disease_ids)
    w = weights.double() if weights is not None else torch.ones(len(y), dtype=torch.float64)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logp = torch.log_softmax(z / log_t.exp(), dim=1)
        log_q = torch.logsumexp(logp[:, ids], dim=1)
        log_not_q = torch.log1p(-log_q.exp().clamp(max=1 - 1e-12))
        nll = -(y * log_q + (1 - y) * log_not_q)
        loss = (nll * w).sum() / w.sum()
        loss.backward()  # type: ignore[no-untyped-call]
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    return float(np.clip(float(log_t.detach().exp()), 0.05, 20.0))


def calibrate(logits: torch.Tensor, labels: torch.Tensor, disease_ids: Sequence[int],
              weights: torch.Tensor | None = None) -> dict[str, float]:
    """Fit ``T`` and measure the disease-probability ECE before and after.

    Returns:
        ``{"method": "temperature", "temperature", "ece_before", "ece_after", "pixels"}``.
    """
    temperature = fit_temperature(logits, labels, disease_ids, weights)
    diseased = np.isin(labels.cpu().numpy(), list(disease_ids)).astype(np.float64)
    before = expected_calibration_error(disease_probability(logits, disease_ids), diseased)
    after = expected_calibration_error(disease_probability(logits, disease_ids, temperature), diseased)
    return {"temperature": round(temperature, 4), "ece_before": round(before, 5), "ece_after": round(after, 5),
            "pixels": len(labels), "bins": ECE_BINS}
