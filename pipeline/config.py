"""Explicit configuration: ``params.yaml`` read once at the CLI edge.

The file has one top-level section per stage (``simulate``, ``flight``,
``ingest``, ``detection``, ``outputs``, ``search``, ``batch``). Each stage
declares a frozen dataclass with its defaults and builds it with
:func:`section`; nothing reads the file at import time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from pipeline.errors import ConfigError, SceneNotFoundError

T = TypeVar("T")

#: params.yaml at the project root, used when the CLI is given no --params.
DEFAULT_PARAMS_PATH = Path(__file__).resolve().parent.parent / "params.yaml"


@dataclasses.dataclass(frozen=True)
class Params:
    """All sections of a params file, read-only.

    Attributes:
        sections: Section name to its (read-only) mapping of values.
        source: The file they came from, or ``None`` for built-in defaults.
    """

    sections: Mapping[str, Mapping[str, Any]]
    source: Path | None = None

    def get(self, name: str) -> Mapping[str, Any]:
        """The mapping of section ``name`` (empty when the file has none)."""
        return self.sections.get(name, MappingProxyType({}))


def load_params(path: Path | str | None = None) -> Params:
    """Read a params YAML file into a frozen :class:`Params`.

    Args:
        path: The file; ``None`` reads the project's ``params.yaml`` when it
            exists, else returns built-in defaults (empty sections).

    Raises:
        SceneNotFoundError: an explicitly named file does not exist.
        ConfigError: the file is not a mapping of mappings.
    """
    if path is None:
        if not DEFAULT_PARAMS_PATH.is_file():
            return Params(MappingProxyType({}))
        path = DEFAULT_PARAMS_PATH
    path = Path(path)
    if not path.is_file():
        raise SceneNotFoundError(f"params file {str(path)!r} does not exist; pass --params with an existing YAML file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"params file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise ConfigError(
            f"params file {str(path)!r} must map section names (simulate, flight, ingest...) to mappings of values"
        )
    frozen = {str(k): MappingProxyType(dict(v)) for k, v in doc.items()}
    return Params(MappingProxyType(frozen), source=path)


def section(cls: type[T], values: Mapping[str, Any], name: str) -> T:
    """Build frozen dataclass ``cls`` from a section, rejecting unknown keys.

    Args:
        cls: A dataclass whose fields all have defaults.
        values: The section's mapping (may be partial).
        name: Section name, for error messages.

    Raises:
        ConfigError: a key is not a field of ``cls`` or a value has the wrong type.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"params section {name!r} has unknown key(s) {', '.join(unknown)}; expected some of: {', '.join(fields)}"
        )
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        kwargs[key] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"params section {name!r}: {exc}") from exc
