"""Translators, algorithms, events, flows, tasks and the engine."""
