"""Synthetic documents with exact truth (text, boxes, regions, tables, key/value pairs)."""
