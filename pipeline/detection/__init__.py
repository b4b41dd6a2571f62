"""detection stage."""
