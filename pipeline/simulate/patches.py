"""Disease patches: irregular blobs that appear at their onset and spread with disease progress."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from pipeline.core.fields import Field
from pipeline.simulate.canopy import diseases_of

#: Smallest and largest disease patch area at full progress, m^2.
PATCH_AREA_M2 = (3.0, 300.0)


@dataclass(frozen=True)
class Patch:
    """A disease patch that spreads from its origin as disease progress grows.

    Its outline at progress ``p`` is ``r(theta) = R(p) (1 + sum_k a_k cos(k theta + phi_k))``
    around ``centre``, clipped to the field, with
    ``R(p) = radius_m * sqrt(max(p - onset, 0) / (1 - onset))`` and peak severity
    ``min(1, peak * (0.4 + 0.6 (p - onset) / (1 - onset)))``.

    Attributes:
        field_id: Host field.
        crop: Host crop.
        disease: Class name.
        centre: ``(x, y)`` in the projected CRS.
        radius_m: Mean radius at progress 1.
        harmonics: ``((k, a_k, phi_k), ...)`` shape terms.
        onset: Progress at which the patch appears (0 for the origins).
        peak: Peak severity at progress 1.
    """

    field_id: str
    crop: str
    disease: str
    centre: tuple[float, float]
    radius_m: float
    harmonics: tuple[tuple[int, float, float], ...]
    onset: float
    peak: float

    @property
    def reach(self) -> float:
        """Largest outline radius relative to the mean: ``1 + sum_k |a_k|``."""
        return 1.0 + sum(abs(a) for _, a, _ in self.harmonics)

    def radius_at(self, progress: float) -> float:
        """Mean radius in metres at ``progress`` (0 before onset)."""
        grown = max(progress - self.onset, 0.0) / (1.0 - self.onset)
        return self.radius_m * math.sqrt(grown)

    def peak_at(self, progress: float) -> float:
        """Peak severity at ``progress``."""
        grown = max(progress - self.onset, 0.0) / (1.0 - self.onset)
        return min(1.0, self.peak * (0.4 + 0.6 * grown)) if grown > 0 else 0.0

    def shape_factor(self, theta: np.ndarray) -> np.ndarray:
        """``1 + sum_k a_k cos(k theta + phi_k)`` for angles ``theta``."""
        out = np.ones_like(theta)
        for k, a, phi in self.harmonics:
            out = out + a * np.cos(k * theta + phi)
        return out

    def outline(self, progress: float, clip: BaseGeometry) -> Polygon | None:
        """Label polygon at ``progress`` clipped to ``clip`` (largest part), or ``None`` when absent."""
        radius = self.radius_at(progress)
        if radius <= 0.0:
            return None
        theta = np.linspace(0.0, 2.0 * np.pi, 72, endpoint=False)
        r = radius * self.shape_factor(theta)
        blob = Polygon(np.column_stack([self.centre[0] + r * np.cos(theta), self.centre[1] + r * np.sin(theta)]))
        part = blob.intersection(clip)
        if isinstance(part, MultiPolygon):
            part = max(part.geoms, key=lambda g: g.area)
        if not isinstance(part, Polygon) or part.area < 0.5:
            return None
        return part


def _random_point_in(rng: np.random.Generator, poly: BaseGeometry) -> tuple[float, float] | None:
    if poly.is_empty:
        return None
    x0, y0, x1, y1 = poly.bounds
    for _ in range(200):
        x, y = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
        if poly.contains(Point(x, y)):
            return x, y
    return None


def patches_for(rng: np.random.Generator, field: Field, dominant: str) -> list[Patch]:
    """3-6 patches in ``field``: the first (the origin, onset 0) of the ``dominant`` disease, others
    of it (60 %) or another disease of the crop, appearing at onsets 0.05-0.6; areas log-uniform
    in :data:`PATCH_AREA_M2` (capped at 12 % of the field), each kept inside the field and clear
    of other diseases' patches."""
    classes = diseases_of(field.crop)
    out: list[Patch] = []
    for i in range(int(rng.integers(3, 7))):
        disease = dominant if i == 0 or rng.random() < 0.6 else str(rng.choice(classes))
        area_hi = min(PATCH_AREA_M2[1], 0.12 * field.geometry.area)
        area = math.exp(rng.uniform(math.log(PATCH_AREA_M2[0]), math.log(max(area_hi, PATCH_AREA_M2[0] * 1.5))))
        harmonics = tuple((k, float(rng.uniform(0.0, 0.28 / math.sqrt(k))), float(rng.uniform(0, 2 * np.pi)))
                          for k in range(2, 6))
        reach = 1.0 + sum(a for _, a, _ in harmonics)
        radius = math.sqrt(area / math.pi)
        centre = None
        while centre is None and radius > 0.5:
            # keep clear of other diseases' patches (same-disease patches may merge)
            keep_out = [Point(p.centre).buffer(1.3 * (p.radius_m * p.reach + radius * reach))
                        for p in out if p.disease != disease]
            allowed = field.geometry.buffer(-1.35 * radius * reach)
            for disc in keep_out:
                allowed = allowed.difference(disc)
            centre = _random_point_in(rng, allowed)
            radius = radius if centre is not None else radius * 0.7
        if centre is None:
            continue
        onset = 0.0 if i == 0 else float(rng.uniform(0.05, 0.6))
        out.append(Patch(field.field_id, field.crop, disease, centre, radius, harmonics, onset,
                         float(rng.uniform(0.65, 1.0))))
    return out
