"""Outputs for people: Japanese grower reports (``shimanto report``) and open data (``shimanto publish``)."""
