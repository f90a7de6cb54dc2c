"""Lifecycles: definitions as data, their effects and fields, the compiled ``transitions`` machine, ``issue-list``."""
