"""Raw MicaSense captures -> calibrated, aligned reflectance stacks (``shimanto ingest captures``).

Pipeline per capture (one 16-bit TIFF per band, ``IMG_XXXX_N.tif``):

1. :mod:`.metadata` parses the XMP packet (TIFF tag 700) and EXIF tags with
   tifffile — no exiftool — and validates them (every problem listed);
2. :mod:`.discover` groups files into captures by ``MicaSense:CaptureId``;
3. :mod:`.radiometry` applies MicaSense's radiometric model (dark level,
   vignetting polynomial, row gradient, a1 / (gain · exposure) / 2^bits) and
   removes lens distortion;
4. :mod:`.panel` finds the reflectance panel (uniform square + QR texture) and
   :mod:`.process` turns radiance into reflectance with the panel
   (ρ_panel / mean panel radiance) or the DLS (π·L / E, :mod:`.dls`);
5. :mod:`.align` registers the bands (phase correlation of gradients) and crops;
6. :mod:`.geometry` georeferences the frame approximately (flat ground) and
   :mod:`.run` writes ``<capture>_reflectance.tif``, ``captures.geojson``, ``captures.csv``.

Whole flights: OpenDroneMap. Per-frame stacks are for inspection, panels and
sample plots; a field map needs an orthomosaic: ``shimanto mosaic`` sends the
SD card's captures to a NodeODM/ClusterODM node (:mod:`pipeline.ingest.mosaic`)
and brings back ``orthophoto.tif`` for ``shimanto indices``;
:func:`.odm.read_orthophoto` reads such an ODM orthophoto and separates the alpha mask.
"""

from pipeline.ingest.captures.metadata import BandMeta, read_band_meta
from pipeline.ingest.captures.run import CapturesOptions, CapturesReport, run_captures

__all__ = ["BandMeta", "CapturesOptions", "CapturesReport", "read_band_meta", "run_captures"]
