"""Connections, connection roles, webhooks and the outbound HTTP client."""
