"""Shared records, settings and text normalisation used by every pipeline stage."""
