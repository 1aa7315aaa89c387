"""Data layer: tables as Ibis expressions, ingestion with validation, and summaries."""

from cvm.data.timeunit import TimeUnit

__all__ = ["TimeUnit"]
