"""Tests of stores (mirrors src/govflow/_stores/)."""
