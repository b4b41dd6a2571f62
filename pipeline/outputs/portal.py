"""The human-facing parts of the open data: the statistics CSV and an offline ``index.html``.

CSV conventions follow the 自治体標準オープンデータセット (Digital Agency): the file name starts
with Shimanto's 全国地方公共団体コード ``394122``, the first columns are 全国地方公共団体コード,
ID, 地方公共団体名, dates are ISO ``YYYY-MM-DD``, coordinates WGS84 decimal degrees.

Encoding choice: UTF-8 **with BOM** (``utf-8-sig``). The standard asks for UTF-8; the BOM is what
makes Excel on Japanese Windows open the file as UTF-8 instead of Shift_JIS, and pandas, R and
Python's csv module with ``utf-8-sig`` read it transparently.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pystac

from pipeline.common.atomic import atomic_write_bytes, atomic_write_text
from pipeline.outputs.privacy import MUNICIPALITY_CODE
from pipeline.outputs.stac import ATTRIBUTION, PDL_TITLE, PDL_URL
from pipeline.outputs.webmap import MAP_SCRIPT, MAP_STYLE, static_files
from pipeline.outputs.wording import crop_name, disease_name

CSV_NAME = f"{MUNICIPALITY_CODE}_drone_field_stats.csv"
TOWN_NAME = "高知県四万十町"
LEAD_COLUMNS = ("全国地方公共団体コード", "ID", "地方公共団体名", "圃場ID", "名称", "緯度", "経度", "作物", "観測日",
                "面積(ha)")
TAIL_COLUMNS = ("要注意面積(m2)", "要注意面積割合(%)", "病害の疑い")
INDEX_ORDER = ("ndvi", "ndre", "gndvi", "savi", "osavi", "evi2")
#: Column → meaning and unit, printed in index.html.
COLUMN_NOTES: Mapping[str, str] = {
    "全国地方公共団体コード": "四万十町の団体コード（394122）",
    "ID": "行の識別子（圃場ID-観測日）",
    "地方公共団体名": "高知県四万十町",
    "圃場ID": "匿名の圃場ID（観測日が違っても同じ圃場は同じID）",
    "名称": "作物と匿名ID",
    "緯度": "圃場内の代表点の緯度（世界測地系、度）",
    "経度": "圃場内の代表点の経度（世界測地系、度）",
    "作物": "水稲 または しょうが",
    "観測日": "ドローン観測日（YYYY-MM-DD）",
    "面積(ha)": "圃場面積（ヘクタール）",
    "<指数>平均": "圃場内の植生指数の平均（NDVI など、無次元）",
    "要注意面積(m2)": "病害の疑いがある範囲の面積（平方メートル）",
    "要注意面積割合(%)": "要注意面積 ÷ 圃場面積 × 100（パーセント）",
    "病害の疑い": "疑われる病名（; 区切り）",
}


@dataclass(frozen=True)
class FieldRow:
    """One published field on one flight date (anonymous)."""

    anon_id: str
    crop: str
    date: dt.date
    lat: float
    lon: float
    area_ha: float
    index_means: Mapping[str, float | None]
    concern_m2: float
    concern_pct: float
    classes: tuple[str, ...]


def _index_columns(rows: Sequence[FieldRow]) -> list[str]:
    names = {n for r in rows for n in r.index_means}
    return [n for n in INDEX_ORDER if n in names] + sorted(names - set(INDEX_ORDER))


def csv_text(rows: Sequence[FieldRow]) -> str:
    """The statistics table as CSV text (header in Japanese, one row per field and date)."""
    indices = _index_columns(rows)
    header = [*LEAD_COLUMNS, *(f"{n.upper()}平均" for n in indices), *TAIL_COLUMNS]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for r in sorted(rows, key=lambda r: (r.date, r.anon_id)):
        means = [("" if r.index_means.get(n) is None else f"{r.index_means[n]:.3f}") for n in indices]
        writer.writerow(
            [MUNICIPALITY_CODE, f"{r.anon_id}-{r.date:%Y%m%d}", TOWN_NAME, r.anon_id,
             f"{crop_name(r.crop)}圃場 {r.anon_id}", r.lat, r.lon, crop_name(r.crop), r.date.isoformat(),
             f"{r.area_ha:.3f}", *means, f"{r.concern_m2:.0f}", f"{r.concern_pct:.1f}",
             ";".join(disease_name(c) for c in r.classes)]
        )
    return buf.getvalue()


def write_csv(root: Path, rows: Sequence[FieldRow]) -> Path:
    """Write :data:`CSV_NAME` under ``root`` as UTF-8 with BOM (see module docstring)."""
    return atomic_write_bytes(root / CSV_NAME, csv_text(rows).encode("utf-8-sig"))


FONT_DIR = "fonts"
#: Shown instead of the map when the page is opened as a file (no range requests there).
FILE_MESSAGE = ("地図は、このフォルダを HTTP の範囲リクエスト（Range）に対応した Web サーバーで公開すると表示されます"
                "（例：shimanto opendata-serve このフォルダ、または nginx）。"
                "ファイルとして開いた場合は、下の一覧からデータを"
                "利用できます。")
STYLE = """
@font-face{font-family:"IPAexGothic";src:url("fonts/ipaexg.ttf") format("truetype")}
body{font-family:"IPAexGothic","Hiragino Sans","Yu Gothic","Noto Sans CJK JP",sans-serif;margin:2em auto;
max-width:60em;padding:0 1em;color:#222;line-height:1.7}
h1{font-size:1.7em;border-bottom:3px solid #2a6;padding-bottom:.3em}h2{margin-top:1.6em;color:#174}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left}
th{background:#eef5ee}.item{display:flex;gap:1em;align-items:flex-start;margin:1em 0}
.item img{width:160px;border:1px solid #ccc;background:#eee}
.note{background:#f7f7f0;padding:.8em;border-left:4px solid #aa6}
code{word-break:break-all}
#map{width:100%;height:480px;border:1px solid #999;background:#f4f4f4}
#map-switcher label{margin-right:1em}.legend{display:flex;align-items:center;gap:.5em;margin:.4em 0}
#map-legend-bar{width:240px;height:14px;border:1px solid #888}#map-selection{overflow-x:auto}
#map-selection table{font-size:.85em}.mesh-key{border:2px dashed #c0392b;padding:0 .4em}
"""


def _rel(target: str | Path, root: Path) -> str:
    return Path(os.path.relpath(Path(target), root)).as_posix()


def _map_section(config: Mapping[str, object] | None) -> list[str]:
    """The map block: a status line (the only thing shown from file://), the hidden map panel, its config."""
    e = html.escape
    if config is None:
        return []
    blob = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    return [
        f'<h2>地図</h2><link rel="stylesheet" href="{e(MAP_STYLE)}">',
        f'<p id="map-status" class="note" data-file-message="{e(FILE_MESSAGE)}">{e(FILE_MESSAGE)}</p>',
        '<div id="map-panel" hidden><div id="map-switcher">植生指数：</div><div id="map"></div>',
        '<div class="legend"><span id="map-legend-title"></span><span id="map-legend-min"></span>'
        '<span id="map-legend-bar"></span><span id="map-legend-max"></span></div>',
        '<p>白い線：公開に同意した圃場（クリックで CSV の行を表示）。<span class="mesh-key">赤い破線</span>：'
        "公開に同意していない圃場の集計（2分の1地域メッシュ、約500 m 四方、JIS X 0410）。"
        "数字は 病害の疑いがある圃場数/圃場数。</p>",
        '<div id="map-selection"></div></div>',
        f'<script type="application/json" id="map-config">{blob}</script>',
        f'<script src="{e(MAP_SCRIPT)}" defer></script>',
    ]


def index_html(root: Path, catalog: Path, collections: Sequence[pystac.Collection], csv_path: Path,
               map_config: Mapping[str, object] | None = None, extra_links: Sequence[tuple[Path, str]] = ()) -> str:
    """The page: the map (served over HTTP) and every dataset as a relative link with thumbnails.

    Every ``href``/``src`` is relative to ``index.html``, so the folder can be moved or served anywhere.
    """
    e = html.escape
    parts = [
        "<!DOCTYPE html>", '<html lang="ja"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        "<title>四万十町 ドローン圃場観測データ</title>", f"<style>{STYLE}</style></head><body>",
        "<h1>四万十町 ドローン圃場観測データ</h1>",
        '<p class="note">' + e(ATTRIBUTION) + "<br>利用規約：" + e(PDL_TITLE) + "（<code>" + e(PDL_URL)
        + "</code>）。クリエイティブ・コモンズ 表示 4.0 国際（CC BY 4.0）と互換です。<br>"
        "個人情報は含みません。圃場は匿名IDで示し、公開に同意していない圃場は統計・範囲・画像のすべてから除いています。</p>",
        "<h2>データ一覧</h2><table><tr><th>データ</th><th>形式</th><th>内容</th></tr>",
        f'<tr><td><a href="{e(_rel(csv_path, root))}">{e(csv_path.name)}</a></td><td>CSV（UTF-8 BOM付き）</td>'
        "<td>圃場ごとの集計（植生指数の平均、要注意面積）</td></tr>",
        f'<tr><td><a href="{e(_rel(catalog, root))}">catalog.json</a></td><td>STAC 1.1.0</td>'
        "<td>画像データの目録（Cloud Optimized GeoTIFF）</td></tr>",
        *(f'<tr><td><a href="{e(_rel(p, root))}">{e(p.name)}</a></td><td>GeoJSON</td><td>{e(text)}</td></tr>'
          for p, text in extra_links),
        "</table>",
        *_map_section(map_config),
    ]
    for c in collections:
        parts.append(f'<h2><a href="{e(_rel(c.get_self_href() or "", root))}">{e(c.title or c.id)}</a></h2>')
        for item in sorted(c.get_items(), key=lambda i: i.id):
            item_href = Path(item.get_self_href() or "")
            thumb = item.assets.get("thumbnail")
            img = ""
            if thumb is not None:
                src = _rel(item_href.parent / thumb.href, root)
                img = f'<img src="{e(src)}" alt="{e(item.id)} のサムネイル">'
            links = " ".join(
                f'<a href="{e(_rel(item_href.parent / a.href, root))}">{e(a.title or k)}</a>'
                for k, a in item.assets.items() if k != "thumbnail"
            )
            parts.append(
                f'<div class="item">{img}<div><b><a href="{e(_rel(item_href, root))}">{e(item.id)}</a></b><br>'
                f"{e(str(item.properties.get('title', '')))}<br>{links}</div></div>"
            )
    parts.append("<h2>CSV の項目</h2><table><tr><th>項目</th><th>説明</th></tr>")
    parts += [f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in COLUMN_NOTES.items()]
    parts.append("</table></body></html>")
    return "\n".join(parts) + "\n"


def copy_static(root: Path) -> dict[str, Path]:
    """Copy the page's packaged files under ``root``: IPAexGothic with its licence (so the page shows Japanese
    on machines without Japanese fonts; the IPA Font License allows redistribution with the licence text),
    the map script and its licences. Returns :func:`pipeline.outputs.webmap.static_files` (for the leak scan)."""
    files = static_files()
    for rel, src in files.items():
        atomic_write_bytes(root / rel, src.read_bytes())
    return files


def write_index_html(root: Path, catalog: Path, collections: Sequence[pystac.Collection], csv_path: Path,
                     map_config: Mapping[str, object] | None = None,
                     extra_links: Sequence[tuple[Path, str]] = ()) -> Path:
    """Write ``index.html`` under ``root`` (call :func:`copy_static` for its font and script)."""
    return atomic_write_text(root / "index.html",
                             index_html(root, catalog, collections, csv_path, map_config, extra_links))
