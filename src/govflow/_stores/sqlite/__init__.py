"""The embedded SQLite store: its schema and migrations, row encoding, ledger reads and facts SQL."""
