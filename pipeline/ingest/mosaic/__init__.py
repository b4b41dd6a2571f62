"""SD card -> orthomosaic through OpenDroneMap's own REST API (``shimanto mosaic``).

The captures are checked first (:mod:`.precheck`: complete bands, a panel
capture, sane exposure tags, GSD), then submitted to a NodeODM or ClusterODM
endpoint with ``pyodm`` (:mod:`.node`), and the orthophoto (and DSM) come back
as Cloud-Optimized GeoTIFFs with a JSON record (:mod:`.run`).

Protocol: NodeODM's REST API (``/task/new/init``, ``/task/new/upload/<uuid>``,
``/task/new/commit/<uuid>``, ``/task/<uuid>/info``, ``/task/cancel``,
``/task/<uuid>/download/all.zip``), as documented by NodeODM's ``docs/`` and
implemented by ``pyodm.Node``/``pyodm.Task``.
"""
