"""Solar position for the simulator: the shared NOAA implementation in :mod:`pipeline.common.solar`."""

from pipeline.common.solar import SunPosition, sun_position

__all__ = ["SunPosition", "sun_position"]
