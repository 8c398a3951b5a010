"""Accounts, authentication (OAuth2 token endpoint, refresh rotation) and sessions."""
