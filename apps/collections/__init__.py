"""Bundles of elements: export, import, install."""
