"""Physics-based synthetic multispectral surveys of Shimanto rice and ginger fields.

Public API (import from the modules; this package imports nothing at load time):

* :func:`pipeline.simulate.survey.simulate_survey` with :class:`~pipeline.simulate.survey.SurveySpec`
  writes a survey folder (contract: :mod:`pipeline.core.survey`).
* :func:`pipeline.simulate.season.season_specs` plans a season of flights over one site.
* :mod:`pipeline.simulate.spectra`: :func:`canopy_spectrum` (PROSPECT-5 + 4SAIL),
  :func:`water_spectrum`, :func:`soil_spectrum`, :func:`band_reflectance` (Gaussian SRFs).
* :mod:`pipeline.simulate.canopy`: crop growth (:data:`CROPS`) and disease end-members (:data:`DISEASES`).
* :func:`pipeline.simulate.sun.sun_position`: NOAA/Spencer solar zenith and azimuth.
* :func:`pipeline.simulate.cli.build_simulate_app`: the ``simulate`` Typer group.
* :func:`pipeline.simulate.quicklook.write_quicklook`: PNG true colour | colour infrared with outlines.
"""
