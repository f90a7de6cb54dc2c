"""Deadlines: China's working-day calendar, the escalation ladder and the sweep."""
