"""Tests of periods, scoring, bulletins, exports (mirrors src/govflow/_reports/)."""
