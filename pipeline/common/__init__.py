"""Shared helpers: atomic writes, COG rasters, geometry, progress, survey folders."""
