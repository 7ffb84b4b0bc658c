"""`python -m segcheck` runs the command line."""

from .cli import main

main()
