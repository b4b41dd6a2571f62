"""Analysis across flights: field time series and their damped-trend forecasts.

Used by batch reprocessing (``shimanto timeseries``) and by grower reports (history charts).
"""
