"""The core: values, errors, the clock, events, working-day arithmetic and the ledger's encoding and chain.

The bottom layer: it imports nothing else of govflow.
"""
