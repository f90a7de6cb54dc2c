"""Reports: periods, scoring and evaluation, ledger exports and the monthly bulletin."""
