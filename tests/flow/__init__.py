"""Tests of the facade (mirrors src/govflow/_flow/)."""
