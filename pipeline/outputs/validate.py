"""Offline validation of the published STAC catalogue: our schema checks and pystac's validator.

Each official schema URL maps to a file under ``pipeline/outputs/schemas`` through a
``referencing.Registry``; an unknown ``$ref`` fails instead of reaching the network. The same
vendored files feed pystac's own ``JsonSchemaSTACValidator`` (:class:`OfflineSTACValidator`), whose
schema fetcher is replaced so that nothing is downloaded at run time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from pystac.errors import STACValidationError
from pystac.serialization import identify_stac_object
from pystac.validation.stac_validator import GetSchemaError, JsonSchemaSTACValidator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
CORE = "https://schemas.stacspec.org/v1.1.0"
#: Official URL → vendored file (relative to :data:`SCHEMA_DIR`).
SCHEMA_FILES: Mapping[str, str] = MappingProxyType(
    {
        **{f"{CORE}/item-spec/json-schema/{n}.json": f"stac-spec/v1.1.0/{n}.json"
           for n in ("item", "bands", "basics", "common", "data-values", "datetime", "instrument", "licensing",
                     "provider")},
        f"{CORE}/catalog-spec/json-schema/catalog.json": "stac-spec/v1.1.0/catalog.json",
        f"{CORE}/collection-spec/json-schema/collection.json": "stac-spec/v1.1.0/collection.json",
        "https://geojson.org/schema/Feature.json": "geojson/Feature.json",
        "https://geojson.org/schema/Geometry.json": "geojson/Geometry.json",
        "https://stac-extensions.github.io/eo/v1.1.0/schema.json": "extensions/eo-v1.1.0.json",
        "https://stac-extensions.github.io/raster/v1.1.0/schema.json": "extensions/raster-v1.1.0.json",
    }
)
#: STAC object ``type`` → its core schema URL.
CORE_SCHEMAS: Mapping[str, str] = MappingProxyType(
    {
        "Feature": f"{CORE}/item-spec/json-schema/item.json",
        "Catalog": f"{CORE}/catalog-spec/json-schema/catalog.json",
        "Collection": f"{CORE}/collection-spec/json-schema/collection.json",
    }
)


def _load(url: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SCHEMA_DIR / SCHEMA_FILES[url]).read_text(encoding="utf-8"))
    return doc


def _retrieve(uri: str) -> Resource[Any]:
    if uri.rstrip("#") not in SCHEMA_FILES:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
    return Resource.from_contents(_load(uri.rstrip("#")))


def schema_registry() -> Registry[Any]:
    """A registry holding every vendored schema under its official URL; nothing else resolves."""
    resources = [(url, Resource.from_contents(_load(url))) for url in SCHEMA_FILES]
    registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    return registry.with_resources(resources)


def _leaves(err: ValidationError) -> list[ValidationError]:
    """The innermost errors of a oneOf/anyOf failure, minus branches for another object ``type``.

    A STAC extension schema is ``oneOf`` [Item, Collection]; the useful error is inside the branch
    whose ``type`` matched, not "is not valid under any of the given schemas".
    """
    if not err.context:
        return [err]
    wrong_branch = {
        e.relative_schema_path[0] for e in err.context
        if e.validator == "const" and list(e.absolute_path) == ["type"]
    }
    inner = [e for e in err.context if e.relative_schema_path[0] not in wrong_branch]
    leaves = [leaf for e in inner for leaf in _leaves(e)]
    return leaves or [err]


def stac_object_problems(doc: Mapping[str, Any], registry: Registry[Any], where: str = "") -> list[str]:
    """Every schema violation of one STAC JSON object (core schema plus each listed extension)."""
    kind = doc.get("type")
    if kind not in CORE_SCHEMAS:
        return [f"{where}: 'type' is {kind!r}, expected Feature, Catalog or Collection"]
    problems: list[str] = []
    for url in [CORE_SCHEMAS[str(kind)], *doc.get("stac_extensions", [])]:
        if url not in SCHEMA_FILES:
            problems.append(f"{where}: no vendored schema for {url}; add it to pipeline/outputs/schemas")
            continue
        validator = Draft7Validator(_load(url), registry=registry)
        for top in sorted(validator.iter_errors(dict(doc)), key=lambda e: list(e.absolute_path)):
            for err in _leaves(top):
                path = "/".join(str(p) for p in err.absolute_path)
                problems.append(f"{where}: {url.rsplit('/', 3)[-3]} {path or '(root)'}: {err.message[:300]}")
    return problems


def stac_problems(root: Path) -> list[str]:
    """Validate every STAC JSON file under ``root`` (catalog, collections, items); ``[]`` when all valid."""
    registry = schema_registry()
    problems: list[str] = []
    for path in sorted(root.rglob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}: not JSON ({exc})")
            continue
        if isinstance(doc, dict) and "stac_version" in doc:
            problems += stac_object_problems(doc, registry, str(path.relative_to(root)))
    return problems


class OfflineSTACValidator(JsonSchemaSTACValidator):
    """pystac's JSON-schema validator reading schemas only from pystac's bundled copies and ours.

    A schema that is in neither raises :class:`pystac.validation.stac_validator.GetSchemaError`
    instead of being downloaded.
    """

    def __init__(self) -> None:
        super().__init__()
        for url in SCHEMA_FILES:
            self.schema_cache.setdefault(url, _load(url))

    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        if schema_uri not in self.schema_cache:
            raise GetSchemaError(schema_uri, LookupError("not vendored; add it to pipeline/outputs/schemas"))
        return self.schema_cache[schema_uri]


def pystac_problems(root: Path) -> list[str]:
    """Validate every STAC JSON file under ``root`` with pystac's validator (offline); ``[]`` when valid."""
    validator = OfflineSTACValidator()
    problems: list[str] = []
    for path in sorted(root.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(doc, dict) and "stac_version" in doc):
            continue
        info = identify_stac_object(doc)
        try:
            validator.validate(doc, info.object_type, str(doc["stac_version"]), list(info.extensions), str(path))
        except (STACValidationError, GetSchemaError) as exc:
            problems.append(f"{path.relative_to(root)}: pystac: {str(exc).splitlines()[0][:300]}")
    return problems


def href_problems(root: Path) -> list[str]:
    """Every STAC link or asset href under ``root`` that is absolute, leaves ``root`` or names no file.

    Links with ``rel`` ``license`` (and any other ``http(s)`` link to the outside world) are allowed
    to be absolute URLs; everything that belongs to the publication must be relative.
    """
    root = root.absolute()
    problems: list[str] = []
    for path in sorted(root.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(doc, dict) and "stac_version" in doc):
            continue
        refs = [(f"link {link.get('rel')}", link.get("href", "")) for link in doc.get("links", [])]
        refs += [(f"asset {k}", a.get("href", "")) for k, a in doc.get("assets", {}).items()]
        for what, href in refs:
            if href.startswith(("http://", "https://")) and what == "link license":
                continue
            target = (path.parent / href).resolve()
            if Path(href).is_absolute() or "://" in href:
                problems.append(f"{path.relative_to(root)}: {what} href {href!r} is not relative")
            elif not target.is_relative_to(root.resolve()):
                problems.append(f"{path.relative_to(root)}: {what} href {href!r} leaves the publication")
            elif not target.is_file():
                problems.append(f"{path.relative_to(root)}: {what} href {href!r} names no file")
    return problems
