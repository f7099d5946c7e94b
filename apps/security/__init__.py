"""Authorizations, OAuth clients and providers, secrets and permissions."""
