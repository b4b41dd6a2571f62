"""Find MicaSense band images under a folder and group them into captures.

Files are grouped by their XMP ``MicaSense:CaptureId`` (all bands of one
trigger share it); a file whose metadata cannot be read is grouped by its name
prefix (``IMG_0003_1.tif`` -> ``IMG_0003``) so that the capture it belongs to
is reported as failed rather than silently dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError, PipelineError, SceneNotFoundError
from pipeline.ingest.captures.metadata import BandMeta, read_band_meta

#: Band numbers of a RedEdge/RedEdge-MX capture -> canonical band name (the output order).
REDEDGE_BANDS: dict[int, str] = {1: "blue", 2: "green", 3: "red", 4: "nir", 5: "red_edge"}
_PREFIX = re.compile(r"^(.*)_(\d+)$")


@dataclass(frozen=True)
class CaptureGroup:
    """The files of one capture.

    Attributes:
        label: Human name, the file prefix (``IMG_0001``), made unique with the capture id if needed.
        capture_id: ``MicaSense:CaptureId`` (empty when no file could be read).
        bands: Readable band metadata, sorted by band number.
        problems: ``"file: problem"`` lines; a capture with any problem is not processed.
    """

    label: str
    capture_id: str
    bands: tuple[BandMeta, ...]
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def normalise_band_name(name: str) -> str:
    """``"Red edge"`` -> ``"red_edge"``, ``"NIR"`` -> ``"nir"``."""
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _prefix(path: Path) -> str:
    m = _PREFIX.match(path.stem)
    return m.group(1) if m else path.stem


def capture_problems(bands: list[BandMeta]) -> list[str]:
    """Every reason a set of band images is not one complete RedEdge capture."""
    problems: list[str] = []
    names = [normalise_band_name(b.band_name) for b in bands]
    missing = [f"{n} ({name})" for n, name in REDEDGE_BANDS.items() if name not in names]
    if missing:
        problems.append(f"missing band(s) {', '.join(missing)}; expected one file per band IMG_XXXX_1..5.tif")
    unknown = sorted({n for n in names if n not in REDEDGE_BANDS.values()})
    if unknown:
        expected = ", ".join(REDEDGE_BANDS.values())
        problems.append(f"unsupported band(s) {', '.join(unknown)}; expected RedEdge bands {expected}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"band(s) {', '.join(dupes)} appear more than once in the capture")
    sizes = {(b.width, b.height) for b in bands}
    if len(sizes) > 1:
        problems.append(f"band images differ in size: {sorted(sizes)}")
    return problems


def discover_captures(directory: Path | str) -> list[CaptureGroup]:
    """Group every ``*.tif`` under ``directory`` (recursively) into captures, sorted by label.

    Raises:
        SceneNotFoundError: ``directory`` does not exist.
        InputError: it holds no TIFF files.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SceneNotFoundError(f"captures folder {str(directory)!r} does not exist; give the SD card's folder")
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix.lower() in (".tif", ".tiff"))
    if not files:
        raise InputError(
            f"no .tif files under {str(directory)!r}; expected MicaSense captures (IMG_XXXX_1..5.tif in NNNNSET/000/)"
        )
    by_id: dict[str, list[BandMeta]] = defaultdict(list)
    prefix_of_id: dict[str, str] = {}
    bad_by_prefix: dict[str, list[str]] = defaultdict(list)
    for path in files:
        try:
            meta = read_band_meta(path)
        except PipelineError as exc:
            bad_by_prefix[str(path.parent / _prefix(path))].append(str(exc))
            continue
        by_id[meta.capture_id].append(meta)
        prefix_of_id.setdefault(meta.capture_id, str(path.parent / _prefix(path)))
    groups: list[CaptureGroup] = []
    used: set[str] = set()
    for capture_id, metas in by_id.items():
        key = prefix_of_id[capture_id]
        problems = [*bad_by_prefix.pop(key, []), *capture_problems(metas)]
        label = Path(key).name if Path(key).name not in used else f"{Path(key).name}_{capture_id[:8]}"
        used.add(label)
        groups.append(CaptureGroup(label, capture_id, tuple(sorted(metas, key=lambda m: m.band_number)),
                                   tuple(problems)))
    for key, problems in bad_by_prefix.items():
        label = Path(key).name if Path(key).name not in used else f"{Path(key).parent.name}_{Path(key).name}"
        used.add(label)
        groups.append(CaptureGroup(label, "", (), tuple(problems)))
    return sorted(groups, key=lambda g: g.label)
