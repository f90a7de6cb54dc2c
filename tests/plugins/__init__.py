"""Tests of plugins, hooks, the outbox (mirrors src/govflow/_plugins/)."""
