"""Test and benchmark helpers (toy surveys, fake vehicles, lossy links): never imported by product code."""
