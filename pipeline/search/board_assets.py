"""The board's local files: hls.js (vendored from npm) and the IPAexGothic font, each with its licence.

They are copied beside ``board.html`` (``vendor/``, ``fonts/``) so the page needs no CDN and renders
Japanese on a PC without Japanese fonts, the same way the open-data page ships its font. They are
public files (open-source code and a font, no data): nginx serves exactly these names without a
token (:data:`pipeline.search.nginx.PUBLIC_BOARD_ASSETS` is built from :data:`BOARD_ASSETS`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.common.atomic import atomic_path
from pipeline.common.fontfile import ipa_licence_path, ipaex_gothic_path

VENDOR_DIR = Path(__file__).with_name("vendor")
#: hls.js release vendored in ``pipeline/search/vendor`` (npm package ``hls.js``, Apache-2.0).
HLS_JS_VERSION = "1.7.4"


def board_asset_sources() -> dict[str, Path]:
    """``{path relative to the board folder: packaged source file}`` of every local asset of the page."""
    return {
        "vendor/hls.light.min.js": VENDOR_DIR / "hls.light.min.js",
        "vendor/hls.js-LICENSE.txt": VENDOR_DIR / "hls.js-LICENSE.txt",
        "fonts/ipaexg.ttf": ipaex_gothic_path(),
        "fonts/IPA_Font_License_Agreement_v1.0.txt": ipa_licence_path(),
    }


#: Relative paths of the board's public assets (what nginx serves without a token).
BOARD_ASSETS: tuple[str, ...] = ("vendor/hls.light.min.js", "vendor/hls.js-LICENSE.txt", "fonts/ipaexg.ttf",
                                 "fonts/IPA_Font_License_Agreement_v1.0.txt")


def copy_board_assets(board_dir: Path) -> list[Path]:
    """Copy the assets into ``board_dir`` (atomically; an identical copy already there is kept)."""
    written = []
    for rel, src in board_asset_sources().items():
        dest = board_dir / rel
        if not (dest.is_file() and dest.stat().st_size == src.stat().st_size
                and dest.read_bytes() == src.read_bytes()):
            with atomic_path(dest) as tmp:
                shutil.copyfile(src, tmp)
        written.append(dest)
    return written
