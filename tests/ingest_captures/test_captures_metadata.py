"""XMP/EXIF parsing of real MicaSense frames, checked against MicaSense's own published test figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from pipeline.errors import InputError, SceneNotFoundError
from pipeline.ingest.captures.metadata import parse_xmp, read_band_meta


def test_rededge_panel_frame_matches_micasense_figures(rededge_dir: Path) -> None:
    # Expected values: micasense/imageprocessing tests/test_metadata.py for this very file.
    meta = read_band_meta(rededge_dir / "IMG_0000_1.tif")
    assert meta.make == "MicaSense" and meta.model == "RedEdge"
    assert meta.band_name == "Blue" and meta.band_number == 1
    assert meta.capture_id == "5v25BtsZg3BQBhVH7Iaz" and meta.flight_id == "NtLNbVIdowuCaWYbg3ck"
    assert meta.black_level == 4800.0
    assert meta.dark_pixels == pytest.approx(5071.5)
    assert meta.exposure_s == pytest.approx(0.0004725)
    assert meta.gain == 1.0
    assert meta.bits_per_pixel == 16
    assert meta.centre_nm == 475 and meta.fwhm_nm == 20
    assert meta.vignette_centre == pytest.approx((676.703, 480.445), abs=1e-3)
    assert meta.vignette_poly == pytest.approx(
        [-3.188190987533484e-05, 1.1380741452056501e-07, -2.7776829778142425e-09, 9.981184981301047e-12,
         -1.4703936738578638e-14, 7.334097230810222e-18], rel=1e-3)
    assert meta.distortion == pytest.approx(
        [-0.09679655532374383, 0.14041893470790068, -0.022980842634993275, 0.0002758383774216635,
         0.0006600729536460939], rel=1e-3)
    assert meta.focal_plane_px_per_mm == pytest.approx(266.666667)
    assert meta.focal_length_px / meta.focal_plane_px_per_mm == pytest.approx(5.43509341)
    assert meta.principal_point_px == pytest.approx((2.35363 * 266.666667, 1.79947 * 266.666667))
    assert meta.time_utc is not None
    assert meta.time_utc.strftime("%Y-%m-%d %H:%M:%S.%f") == "2017-10-19 20:40:39.200174"
    assert (meta.lat, meta.lon, meta.alt) == pytest.approx((36.576096, -119.4352689, 101.861))
    assert meta.dls_irradiance == pytest.approx(1.0848, abs=1e-4)
    assert meta.dls_pose_rad == pytest.approx((-3.070, -0.188, -0.013), abs=1e-3)
    assert meta.radiometric_cal == pytest.approx((0.00014648541280593884, 1.1794106515704275e-07,
                                                  1.3974330853826152e-06))


def test_rededge_m_v3_frame_focal_length_in_mm(shared_dir: Path) -> None:
    meta = read_band_meta(shared_dir / "data" / "micasense-rededge" / "0001SET" / "000" / "IMG_0002_4.tif")
    assert meta.model == "RedEdge-M" and meta.firmware == "v3.3.0"
    assert meta.focal_length_px / meta.focal_plane_px_per_mm == pytest.approx(5.45221099)
    assert meta.exposure_s == pytest.approx(0.00171) and meta.gain == 2.0
    assert meta.time_utc is not None
    assert meta.time_utc.strftime("%Y-%m-%d %H:%M:%S.%f") == "2018-04-10 10:52:30.866550"


def test_odm_tiny_multispec_frame_attribute_style_xmp(shared_dir: Path) -> None:
    # exiv2/GIMP rewrote the XMP as attributes with another Pix4D namespace and dropped BlackLevel.
    meta = read_band_meta(shared_dir / "data" / "odm-fixtures" / "tiny_drone_image_multispec.tif")
    assert (meta.width, meta.height) == (48, 36)
    assert meta.band_name == "Blue" and meta.capture_id == "CqaClXcmhKgplT0yPCLE"
    assert meta.black_level is None and meta.dark_level == pytest.approx((5304 + 5331 + 5267 + 5239) / 4)
    assert len(meta.vignette_poly) == 6 and len(meta.distortion) == 5
    assert meta.focal_length_px == pytest.approx(5.4285885423598907 * 266.666667, rel=1e-6)
    assert meta.dls_irradiance == pytest.approx(0.98138427734375)
    assert meta.lat == pytest.approx(50.98, abs=0.01) and meta.lon == pytest.approx(21.43, abs=0.01)


def test_bad_exposure_tag_is_a_clear_error(bad_exposure_file: Path) -> None:
    with pytest.raises(InputError) as err:
        read_band_meta(bad_exposure_file)
    message = str(err.value)
    assert "IMG_0003_1.tif" in message and "ExposureTime" in message and "1/6329" in message


def test_non_micasense_tiff_is_rejected(tmp_path: Path) -> None:
    plain = tmp_path / "IMG_0009_1.tif"
    tifffile.imwrite(plain, np.zeros((8, 8), np.uint16))
    with pytest.raises(InputError, match=r"IMG_0009_1\.tif.*no XMP"):
        read_band_meta(plain)


def test_missing_and_garbage_files(tmp_path: Path) -> None:
    with pytest.raises(SceneNotFoundError, match=r"nope\.tif"):
        read_band_meta(tmp_path / "nope.tif")
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"not a tiff at all")
    with pytest.raises(InputError, match=r"junk\.tif.*not a readable TIFF"):
        read_band_meta(junk)


def test_xmp_lists_every_missing_value(tmp_path: Path) -> None:
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:Camera="http://pix4d.com/1.0" Camera:BandName="Red"/></rdf:RDF></x:xmpmeta>')
    path = tmp_path / "IMG_0001_3.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint16), extratags=[(700, "B", len(xmp), xmp.encode(), True)])
    with pytest.raises(InputError) as err:
        read_band_meta(path)
    for name in ("CaptureId", "RadiometricCalibration", "VignettingPolynomial", "ExposureTime", "ISOSpeed"):
        assert name in str(err.value)


def test_parse_xmp_both_layouts() -> None:
    seq = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:DLS="http://micasense.com/DLS/1.0/" DLS:Yaw="1.5">'
           '<DLS:Pitch>0.1</DLS:Pitch></rdf:Description>'
           '<rdf:Description xmlns:Camera="http://pix4d.com/camera/1.0/"><Camera:VignettingCenter><rdf:Seq>'
           '<rdf:li>1</rdf:li><rdf:li>2</rdf:li></rdf:Seq></Camera:VignettingCenter></rdf:Description>'
           '</rdf:RDF></x:xmpmeta>')
    parsed = parse_xmp(seq)
    assert parsed == {"DLS:Yaw": "1.5", "DLS:Pitch": "0.1", "Camera:VignettingCenter": ["1", "2"]}
    with pytest.raises(InputError):
        parse_xmp("<nothing/>")
