"""``python -m moderation``: the same command line as ``moderation``."""

from moderation.cli import main

main()
