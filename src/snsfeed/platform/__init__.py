"""Shared adapters: database, security, errors, ids, events outbox."""
