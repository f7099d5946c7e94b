"""Namespaces, data types (JSON Schema) and records."""
