"""Generates connectors from a short REST API description."""
