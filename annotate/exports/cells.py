"""Spreadsheet cells that are safe to open. Pure: no Django."""

from __future__ import annotations

# What a spreadsheet may take for the start of a formula (or of a cell it splits).
CSV_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A spreadsheet must not run a cell as a formula: text starting with = + - @, tab or
    carriage return gets a leading apostrophe. Numbers we format ourselves stay numbers."""
    if isinstance(value, str) and value.startswith(CSV_DANGEROUS):
        return "'" + value
    return value
