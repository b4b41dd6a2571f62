"""``run_indices``: orthomosaic -> index COGs (+ field statistics), all or nothing.

Everything is validated before any pixel is computed (sensor, bands, scale,
georeference, index names, thresholds, fields overlap); the outputs are computed
into a temporary sibling of ``out`` that replaces it only when complete.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.common.atomic import atomic_dir, atomic_write_json, check_output_folder
from pipeline.errors import InputError
from pipeline.ingest.engine import EngineSettings, compute_index_rasters, plan_pass
from pipeline.ingest.field_stats import field_statistics, load_fields, write_field_stats
from pipeline.ingest.indices import DEFAULT_INDICES, resolve_indices
from pipeline.ingest.orthomosaic import open_orthomosaic
from pipeline.ingest.reflectance import check_reflectance
from pipeline.ingest.sensor_file import resolve_sensor

MANIFEST_NAME = "indices.json"
#: COG codecs accepted for index rasters (float32; LERC variants are lossy and excluded).
COMPRESSIONS: tuple[str, ...] = ("ZSTD", "DEFLATE", "LZW", "LZMA", "NONE")


@dataclass(frozen=True)
class IngestConfig:
    """The ``ingest:`` section of params.yaml.

    Attributes:
        indices: Indices computed when ``--indices`` is not given.
        stress_thresholds: Index -> value below which a pixel counts as stressed.
        workers: Threads (0: all CPUs).
        window_pixels: Target pixels per processing window.
        compress: COG compression (ZSTD is ~4x faster to write than DEFLATE at equal size;
            choose DEFLATE for readers without ZSTD).
        level: Compression level (0: GDAL default).
        blocksize: COG tile size in pixels.
        cache_mb: GDAL block cache in MiB during the computation (bounds memory).
        predictor: Floating-point TIFF predictor in the COGs: ~11% smaller files on canopy for
            ~15% more CPU; off by default (speed; the open-data stage re-encodes what it publishes).
    """

    indices: tuple[str, ...] = DEFAULT_INDICES
    stress_thresholds: Mapping[str, float] = field(default_factory=lambda: {"ndvi": 0.5, "ndre": 0.2})
    workers: int = 0
    window_pixels: int = 1 << 20
    compress: str = "ZSTD"
    level: int = 1
    blocksize: int = 512
    cache_mb: int = 128
    predictor: bool = False

    def __post_init__(self) -> None:
        problems = [
            *([f"workers {self.workers} must be >= 0 (0: all CPUs)"] if self.workers < 0 else []),
            *([f"window_pixels {self.window_pixels} must be >= 4096"] if self.window_pixels < 4096 else []),
            *([f"blocksize {self.blocksize} must be a multiple of 16 between 64 and 4096"]
              if self.blocksize % 16 or not 64 <= self.blocksize <= 4096 else []),
            *([f"level {self.level} must be >= 0 (0: codec default)"] if self.level < 0 else []),
            *([f"cache_mb {self.cache_mb} must be >= 16"] if self.cache_mb < 16 else []),
            *([f"stress threshold {k}={v!r} is not a number" for k, v in dict(self.stress_thresholds).items()
               if not isinstance(v, int | float)]),
            *([f"compress {self.compress!r} must be one of {', '.join(COMPRESSIONS)}"]
              if self.compress.upper() not in COMPRESSIONS else []),
        ]
        if problems:
            raise ValueError("; ".join(problems))

    def engine(self, workers: int | None = None, compress: str | None = None) -> EngineSettings:
        """Engine settings, optionally overriding threads and compression (``--workers``, ``--compress``)."""
        if compress is not None and compress.upper() not in COMPRESSIONS:
            raise InputError(f"--compress {compress!r} is not one of {', '.join(COMPRESSIONS)}")
        if workers is not None and workers < 0:
            raise InputError(f"--workers {workers} must be >= 0 (0: all CPUs)")
        return EngineSettings(workers=self.workers if workers is None else workers, window_pixels=self.window_pixels,
                              compress=(compress or self.compress).upper(), level=self.level if compress is None else 0,
                              blocksize=self.blocksize, cache_mb=self.cache_mb,
                              predictor=self.predictor)


@dataclass(frozen=True)
class IndicesResult:
    """What :func:`run_indices` wrote: index COGs and, with fields, the statistics files."""

    out: Path
    rasters: Mapping[str, Path]
    stats: tuple[Path, ...]
    manifest: Path
    warnings: tuple[str, ...] = ()


def parse_thresholds(text: str | None) -> dict[str, float]:
    """Parse ``ndvi=0.5,ndre=0.2`` into a mapping (every bad item reported at once)."""
    out: dict[str, float] = {}
    bad: list[str] = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip().lower()] = float(value)
        except ValueError:
            bad.append(item.strip())
    if bad:
        raise InputError(f"--stress-threshold items {', '.join(bad)} are not NAME=NUMBER (e.g. ndvi=0.5,ndre=0.2)")
    return out


@contextmanager
def _progress(total: int, show: bool) -> Iterator[Callable[[int], None] | None]:
    if not show:
        yield None
        return
    from pipeline.common.progress import progress_task

    with progress_task("indices", total) as (bar, task):
        yield lambda done: bar.update(task, completed=done)  # type: ignore[arg-type]


def run_indices(
    scene: Path | str,
    sensor: str,
    out: Path | str,
    *,
    indices: Sequence[str] | None = None,
    scale: float | None = None,
    fields: Path | str | None = None,
    bands: Sequence[str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    config: IngestConfig | None = None,
    workers: int | None = None,
    compress: str | None = None,
    show_progress: bool | None = None,
    overwrite: bool = False,
) -> IndicesResult:
    """Compute index COGs ``out/<index>.tif`` and, with ``fields``, ``out/field_stats.{csv,geojson}``.

    Args:
        scene: Multi-band GeoTIFF, folder of per-band GeoTIFFs, or glob of them.
        sensor: Sensor registry name (``rededge-mx``, ``rgb``...) or a sensor YAML/JSON file.
        out: Output folder (created; replaced as a whole when it holds a previous ``indices`` output, refused
            when it holds anything else unless ``overwrite``; see :func:`pipeline.common.atomic.atomic_dir`).
        indices: Index names (default: ``config.indices``).
        scale: DIVISOR to reflectance (reflectance = sample / scale); GDAL scale/offset metadata in the
            file is honoured instead (see :mod:`pipeline.ingest.orthomosaic`).
        fields: GeoJSON field polygons (any CRS; WGS84 unless a legacy ``crs`` member says otherwise).
        bands: Band names in file order, overriding the sensor's.
        thresholds: Stress thresholds overriding ``config.stress_thresholds``.
        config: The ``ingest`` params section.
        workers: Threads override.
        compress: COG compression override.
        show_progress: Progress bar on stderr (default: when stderr is a terminal).

    Raises:
        PipelineError: any bad input (nothing is written then).
    """
    config = config or IngestConfig()
    out = Path(out)
    spec = resolve_sensor(sensor)
    ortho = open_orthomosaic(scene, spec, bands=bands, scale=scale)
    ortho = check_reflectance(ortho, str(scene), scale)
    resolved = resolve_indices(list(indices or config.indices), ortho.sensor)
    limits = {k.lower(): float(v) for k, v in {**config.stress_thresholds, **(thresholds or {})}.items()}
    limits = {r.name: limits[r.name.lower()] for r in resolved if r.name.lower() in limits}
    stray = sorted({k.lower() for k in thresholds or {}} - {r.name.lower() for r in resolved})
    if stray:
        raise InputError(f"--stress-threshold names {', '.join(stray)}, which are not among the computed indices "
                         f"({', '.join(r.name for r in resolved)})")
    polygons = load_fields(fields, ortho.crs, ortho.bounds) if fields is not None else None
    check_output_folder(out, "indices", overwrite)
    settings = config.engine(workers, compress)
    windows = len(plan_pass(ortho, settings)[1])
    show = sys.stderr.isatty() if show_progress is None else show_progress
    with atomic_dir(out, "indices", overwrite) as tmp, _progress(windows, show) as progress:
        tmp.chmod(0o755)  # mkdtemp makes 0700 folders; outputs are meant to be shared
        rasters = compute_index_rasters(ortho, resolved, tmp, settings, progress)
        stats: list[Path] = []
        if polygons is not None:
            rows = field_statistics(rasters, polygons, limits)
            stats = write_field_stats(tmp, rows, polygons, ortho.crs)
        manifest: dict[str, Any] = {
            "scene": str(scene), "sensor": ortho.sensor.name, "bands": list(ortho.sensor.band_names),
            "scale": ortho.scale, "scaling": ortho.scaling,
            "band_scaling": {s.band: {"gain": s.gain, "offset": s.offset} for s in ortho.sources},
            "crs": ortho.crs.to_string(), "width": ortho.width, "height": ortho.height,
            "indices": {r.name: {"file": p.name, "formula": r.formula, "reference": r.reference}
                        for r, p in zip(resolved, rasters.values(), strict=True)},
            "stress_thresholds": limits,
            "field_stats": [p.name for p in stats],
        }
        atomic_write_json(tmp / MANIFEST_NAME, manifest)
    return IndicesResult(out, {k: out / p.name for k, p in rasters.items()}, tuple(out / p.name for p in stats),
                         out / MANIFEST_NAME, ortho.warnings)
