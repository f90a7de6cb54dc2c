"""Tests of lifecycles (mirrors src/govflow/_lifecycle/)."""
