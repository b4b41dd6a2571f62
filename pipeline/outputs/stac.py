"""Building the static STAC catalogue (pystac): a Collection per crop season, an Item per flight and crop.

Layout under the publication root::

    catalog.json
    shimanto-2026-rice/collection.json
    shimanto-2026-rice/<item-id>/<item-id>.json
    data/<flight-key>/reflectance.tif, ndvi.tif, ..., classes.tif, thumbnail.png, fields.geojson
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pystac
from pystac.extensions.eo import Band, EOExtension
from pystac.extensions.raster import DataType, NoDataStrings, RasterBand, RasterExtension, Sampling, Statistics
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from pipeline.errors import UnknownNameError
from pipeline.ingest.sensors import get_sensor
from pipeline.outputs.rasters import PublishedRaster
from pipeline.outputs.wording import crop_name

CATALOG_ID = "shimanto-394122-drone"
PDL_URL = "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0"
PDL_TITLE = "公共データ利用規約（第1.0版）(PDL1.0)"
ATTRIBUTION = "出典：四万十町「ドローン圃場観測データ」（公共データ利用規約 第1.0版 PDL1.0 により利用可）"
TOWN_URL = "https://www.town.shimanto.lg.jp/"
#: Our band names → STAC eo common names.
COMMON_NAMES: Mapping[str, str] = {"blue": "blue", "green": "green", "red": "red", "nir": "nir",
                                   "red_edge": "rededge", "pan": "pan", "lwir": "lwir"}


@dataclass(frozen=True)
class ItemAssets:
    """Files of one flight to attach to its Items."""

    reflectance: PublishedRaster | None
    indices: Mapping[str, PublishedRaster]
    classes: PublishedRaster | None
    class_names: Mapping[int, str]
    probability: PublishedRaster | None
    thumbnail: Path | None
    fields: Path
    hotspots: Path | None
    disease_mesh: Path | None = None


def collection_id(year: int, crop: str) -> str:
    """``shimanto-<year>-<crop>``: one collection per crop season (the flight date's year)."""
    return f"shimanto-{year}-{crop}"


def flight_datetime(date: dt.date) -> dt.datetime:
    """The Item datetime: the flight date at 12:00 JST (03:00 UTC); the time of day is not recorded."""
    return dt.datetime(date.year, date.month, date.day, 3, 0, tzinfo=dt.UTC)


def _raster_band(r: PublishedRaster, gsd_m: float | None) -> RasterBand:
    nodata: float | NoDataStrings | None
    nodata = NoDataStrings.NAN if isinstance(r.nodata, float) and math.isnan(r.nodata) else r.nodata
    return RasterBand.create(
        nodata=nodata, data_type=DataType(r.dtype), spatial_resolution=gsd_m,
        statistics=Statistics.create(valid_percent=r.valid_percent), sampling=Sampling.AREA,
    )


def _raster_asset(item: pystac.Item, key: str, r: PublishedRaster, title: str, roles: list[str],
                  gsd_m: float | None, description: str | None = None) -> pystac.Asset:
    asset = pystac.Asset(href=str(r.path.absolute()), media_type=pystac.MediaType.COG, title=title, roles=roles,
                         description=description)
    item.add_asset(key, asset)
    RasterExtension.ext(asset, add_if_missing=True).bands = [_raster_band(r, gsd_m) for _ in r.band_names]
    return asset


def _eo_bands(names: Sequence[str], sensor: str | None) -> list[Band]:
    spec = None
    if sensor:
        try:
            spec = {b.name: b for b in get_sensor(sensor).bands}
        except UnknownNameError:
            spec = None
    out = []
    for name in names:
        b = spec.get(name) if spec else None
        out.append(Band.create(
            name=name, common_name=COMMON_NAMES.get(name),
            center_wavelength=b.centre_nm / 1000.0 if b else None,
            full_width_half_max=b.fwhm_nm / 1000.0 if b else None,
        ))
    return out


def build_item(
    item_id: str, crop: str, date: dt.date, geometry: BaseGeometry, assets: ItemAssets,
    sensor: str | None, gsd_m: float | None, n_fields: int,
) -> pystac.Item:
    """One flight's Item for one crop (geometry: the union of its published fields, WGS84)."""
    props: dict[str, object] = {
        "title": f"{date.isoformat()} {crop_name(crop)} 圃場 ドローン観測",
        "platform": "uav",
        "shimanto:crop": crop,
        "shimanto:field_count": n_fields,
    }
    if sensor:
        props["instruments"] = [sensor]
    if gsd_m:
        props["gsd"] = gsd_m
    item = pystac.Item(id=item_id, geometry=mapping(geometry), bbox=list(geometry.bounds),
                       datetime=flight_datetime(date), properties=props)
    if assets.reflectance is not None:
        asset = _raster_asset(item, "reflectance", assets.reflectance, "地表面反射率（マルチスペクトル）",
                              ["data", "reflectance"], gsd_m)
        EOExtension.ext(asset, add_if_missing=True).bands = _eo_bands(assets.reflectance.band_names, sensor)
    for name, r in sorted(assets.indices.items()):
        _raster_asset(item, name, r, f"{name.upper()}（植生指数）", ["data"], gsd_m)
    if assets.classes is not None:
        legend = ", ".join(f"{k}={v}" for k, v in sorted(assets.class_names.items()))
        _raster_asset(item, "classes", assets.classes, "病害の疑い 分類図", ["data"], gsd_m,
                      description=f"uint8 class map: {legend}")
    if assets.probability is not None:
        _raster_asset(item, "probability", assets.probability, "病害の疑い 確率", ["data"], gsd_m)
    if assets.thumbnail is not None:
        item.add_asset("thumbnail", pystac.Asset(href=str(assets.thumbnail.absolute()), media_type=pystac.MediaType.PNG,
                                                 title="サムネイル（NDVI）", roles=["thumbnail"]))
    item.add_asset("fields", pystac.Asset(href=str(assets.fields.absolute()), media_type=pystac.MediaType.GEOJSON,
                                          title="圃場（匿名ID）", roles=["metadata"]))
    if assets.hotspots is not None:
        item.add_asset("hotspots", pystac.Asset(href=str(assets.hotspots.absolute()),
                                                media_type=pystac.MediaType.GEOJSON,
                                                title="病害の疑いがある範囲", roles=["data"]))
    if assets.disease_mesh is not None:
        item.add_asset("disease_mesh", pystac.Asset(
            href=str(assets.disease_mesh.absolute()), media_type=pystac.MediaType.GEOJSON, roles=["data"],
            title="公開に同意していない圃場の病害の疑い（2分の1地域メッシュ集計）",
            description="Counts of fields whose growers did not agree to open data, per JIS X 0410 1/2 mesh "
                        "(about 500 m) square: mesh_code, date, withheld_fields, fields_with_concern, suspected."))
    return item


def build_collection(cid: str, year: int, crop: str, items: Sequence[pystac.Item]) -> pystac.Collection:
    """A crop season's Collection with PDL1.0 licence link, provider and extents from its Items."""
    bboxes = [i.bbox for i in items if i.bbox]
    union = [min(b[0] for b in bboxes), min(b[1] for b in bboxes), max(b[2] for b in bboxes),
             max(b[3] for b in bboxes)]
    times = sorted(i.datetime for i in items if i.datetime)
    collection = pystac.Collection(
        id=cid,
        title=f"四万十町 {year}年 {crop_name(crop)} ドローン圃場観測",
        description=f"四万十町（高知県）の{year}年{crop_name(crop)}圃場のドローン・マルチスペクトル観測"
        f"（反射率、植生指数、病害の疑い）。{ATTRIBUTION}",
        extent=pystac.Extent(pystac.SpatialExtent([union]), pystac.TemporalExtent([[times[0], times[-1]]])),
        license="other",
        providers=[pystac.Provider(name="四万十町", roles=[pystac.ProviderRole.PRODUCER, pystac.ProviderRole.LICENSOR,
                                                         pystac.ProviderRole.HOST], url=TOWN_URL)],
        keywords=["四万十町", "高知県", "ドローン", crop_name(crop), "NDVI", "394122"],
    )
    collection.add_link(pystac.Link(rel="license", target=PDL_URL, media_type="text/html", title=PDL_TITLE))
    for item in items:
        collection.add_item(item)
    return collection


def relative_href(target: Path, stac_file: Path, root: Path) -> str:
    """``target`` as a POSIX path relative to the folder of ``stac_file``, both inside ``root``.

    Raises:
        ValueError: ``target`` lies outside ``root`` (it would not travel with the publication).
    """
    target, stac_file, root = target.absolute(), stac_file.absolute(), root.absolute()
    if not target.is_relative_to(root):
        raise ValueError(f"{target} is outside the publication {root}")
    return Path(os.path.relpath(target, stac_file.parent)).as_posix()


def save_catalog(root: Path, collections: Sequence[pystac.Collection]) -> Path:
    """Write a self-contained static catalogue under ``root``: every link and asset href is relative to
    the STAC file holding it (STAC best practice "self-contained catalog"), so the folder can be moved,
    copied or served from any URL prefix.

    Asset hrefs must be absolute paths inside ``root`` when the Items are built; they are rewritten here.
    """
    root = root.absolute()
    catalog = pystac.Catalog(id=CATALOG_ID, title="四万十町 ドローン圃場観測データ",
                             description=f"四万十町のドローン観測オープンデータ。{ATTRIBUTION}")
    catalog.add_link(pystac.Link(rel="license", target=PDL_URL, media_type="text/html", title=PDL_TITLE))
    for c in collections:
        catalog.add_child(c)
    catalog.normalize_hrefs(str(root / "catalog.json"))  # a folder named ".x.abc" would pass as a file
    for item in catalog.get_items(recursive=True):
        item_file = Path(item.get_self_href() or "")
        for asset in item.assets.values():
            asset.href = relative_href(Path(asset.href), item_file, root)
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return root / "catalog.json"
