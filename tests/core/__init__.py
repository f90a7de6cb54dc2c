"""Tests of the core: values, the ledger's encoding and chain (mirrors src/govflow/_core/)."""
