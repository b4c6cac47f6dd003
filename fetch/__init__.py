"""Connectors that bring committee papers from where councils publish them into a folder ready to ingest."""
