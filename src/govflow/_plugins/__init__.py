"""Plugins: the pluggy manager and its typed facade, the registries, the outbox and its retries."""
