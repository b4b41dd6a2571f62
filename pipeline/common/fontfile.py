"""The one Japanese font used everywhere: IPAexGothic, shipped inside this package.

``pipeline/common/fonts/ipaexg.ttf`` is IPAexGothic 00301 from the IPA (Information-technology
Promotion Agency, Japan), redistributed unmodified under the IPA Font License Agreement v1.0
(``IPA_Font_License_Agreement_v1.0.txt`` beside it; ``Readme_ipaexg00301.txt`` is the font's own
readme). No system font is assumed, so PDF reports, map PNGs, the open-data page and the search
board render the same Japanese text on every machine.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import DependencyMissingError

FONT_NAME = "IPAexGothic"
FONT_DIR = Path(__file__).with_name("fonts")
FONT_FILE = "ipaexg.ttf"
LICENCE_FILE = "IPA_Font_License_Agreement_v1.0.txt"


def ipaex_gothic_path() -> Path:
    """Path of the packaged ``ipaexg.ttf``.

    Raises:
        DependencyMissingError: the font file is missing (a broken install).
    """
    path = FONT_DIR / FONT_FILE
    if not path.is_file():
        raise DependencyMissingError(f"font file {str(path)!r} is missing; reinstall the shimanto-pipeline package")
    return path


def ipa_licence_path() -> Path:
    """Path of the IPA Font License Agreement that must travel with the font file."""
    return FONT_DIR / LICENCE_FILE
