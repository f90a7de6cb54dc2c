"""Tests of the calendar and deadlines (mirrors src/govflow/_deadlines/)."""
