"""Ingest: sensors, raw captures to reflectance, orthomosaics to vegetation indices."""
