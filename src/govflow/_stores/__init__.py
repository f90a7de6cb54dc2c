"""Stores: the store protocol, the period facts a store computes, the memory store and the SQLite store."""
