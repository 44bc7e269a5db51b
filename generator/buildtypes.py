"""Kept for generator/payments/, which still imports THEMES_DIR from here."""

from .render import THEMES_DIR  # noqa: F401
