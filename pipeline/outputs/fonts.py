"""The one Japanese font used everywhere: IPAexGothic, shipped inside ``japanize_matplotlib``.

No system font is assumed, so reports print the same on every machine.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pipeline.errors import DependencyMissingError

FONT_NAME = "IPAexGothic"


def ipaex_gothic_path() -> Path:
    """Path of ``japanize_matplotlib/fonts/ipaexg.ttf`` (found without importing the package).

    Importing ``japanize_matplotlib`` would change matplotlib's global rcParams; locating the
    package by its import spec has no side effects.

    Raises:
        DependencyMissingError: the package or the font file is missing.
    """
    spec = importlib.util.find_spec("japanize_matplotlib")
    if spec is None or spec.origin is None:
        raise DependencyMissingError(
            "the Japanese font IPAexGothic comes from the 'japanize-matplotlib' package, which is not installed; "
            "install it with: pip install japanize-matplotlib==1.1.3"
        )
    path = Path(spec.origin).parent / "fonts" / "ipaexg.ttf"
    if not path.is_file():
        raise DependencyMissingError(f"font file {str(path)!r} is missing; reinstall japanize-matplotlib")
    return path
