"""Conclusions to reports: the JSON contract, the template view, and rendering."""
