"""Spreadsheets and other formats in and out: problem-list import, export and template."""
