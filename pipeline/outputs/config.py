"""Settings of the outputs stage (the ``outputs:`` section of params.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class ReportConfig:
    """Grower report settings.

    Attributes:
        dpi: Resolution of the field map PNGs (dots per inch).
        dense_canopy_ndvi: Mean NDVI above which NDVI saturates and the map uses NDRE instead
            (dense rice canopies; Gitelson & Merzlyak 1994).
        confidence_high: ``mean_probability`` at or above which the model is "高い" (high) sure.
        confidence_medium: ``mean_probability`` at or above which it is "中くらい"; below is "低い".
        centre_fraction: A spot closer to the field centroid than this fraction of the field's
            equivalent radius ``sqrt(area / pi)`` is described as "中央付近" (near the centre).
        edge_depth: A spot nearer the field edge than this fraction of the field's inscribed radius
            is a corner (diagonal directions, "の角") or an edge ("の端"); else "寄り".
    """

    dpi: int = 150
    dense_canopy_ndvi: float = 0.8
    confidence_high: float = 0.8
    confidence_medium: float = 0.6
    centre_fraction: float = 0.25
    edge_depth: float = 0.4


@dataclass(frozen=True)
class OpenDataConfig:
    """Open data settings.

    Attributes:
        anonymise_salt: Must stay unset. The HMAC key for anonymous field IDs is generated per
            installation into a 0600 file outside the repository (:mod:`pipeline.outputs.anonkey`);
            a key in params.yaml would be committed, and anyone could recompute the IDs with it.
        mask_outside_fields: Set pixels outside published fields to nodata (houses, roads, people).
        thumbnail_px: Longest side of thumbnails in pixels.
        coarsen_m: Default geometry coarsening in metres (0 keeps full precision; ``--coarsen-m``).
    """

    anonymise_salt: str | None = None
    mask_outside_fields: bool = True
    thumbnail_px: int = 256
    coarsen_m: float = 0.0


@dataclass(frozen=True)
class OutputsConfig:
    """The whole ``outputs:`` section (flat keys: the fields of the two groups above, same defaults)."""

    dpi: int = ReportConfig.dpi
    dense_canopy_ndvi: float = ReportConfig.dense_canopy_ndvi
    confidence_high: float = ReportConfig.confidence_high
    confidence_medium: float = ReportConfig.confidence_medium
    centre_fraction: float = ReportConfig.centre_fraction
    edge_depth: float = ReportConfig.edge_depth
    anonymise_salt: str | None = OpenDataConfig.anonymise_salt
    mask_outside_fields: bool = OpenDataConfig.mask_outside_fields
    thumbnail_px: int = OpenDataConfig.thumbnail_px
    coarsen_m: float = OpenDataConfig.coarsen_m

    @property
    def report(self) -> ReportConfig:
        return ReportConfig(**{f.name: getattr(self, f.name) for f in fields(ReportConfig)})

    @property
    def opendata(self) -> OpenDataConfig:
        return OpenDataConfig(**{f.name: getattr(self, f.name) for f in fields(OpenDataConfig)})
