"""`python -m deskbot` is the deskbot command."""

from deskbot.cli import main

main()
