"""Shimanto drone pipeline: from flight plan to decision.

Sub-packages, one per stage:

* :mod:`pipeline.simulate` – physics-based synthetic surveys (PROSAIL canopies).
* :mod:`pipeline.flight` – cameras, survey grids, terrain, safety checks, QGC files.
* :mod:`pipeline.mavlink` – mission upload/verify and vehicle control over MAVLink.
* :mod:`pipeline.ingest` – sensors, raw captures to reflectance, vegetation indices.
* :mod:`pipeline.detection` – disease segmentation (PyTorch), MLflow tracking.
* :mod:`pipeline.outputs` – grower reports (PDF) and open data (STAC, COG, CSV).
* :mod:`pipeline.search` – disaster search patterns and live-stream board.
* :mod:`pipeline.batch` – batch reprocessing on Dask, time series and forecasts.
* :mod:`pipeline.common` – errors, atomic writes, rasters, geometry helpers.
"""

__version__ = "0.1.0"
