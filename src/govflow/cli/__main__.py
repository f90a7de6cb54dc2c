"""``python -m govflow.cli``: the same as the ``govflow`` command."""

from govflow.cli import main

main()
