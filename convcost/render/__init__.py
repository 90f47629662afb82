"""Renderers: Report-like results → text. Only this package and the CLI import rich."""

from __future__ import annotations

FORMATS = ("table", "json", "csv", "markdown")
