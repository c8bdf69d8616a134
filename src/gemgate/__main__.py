"""`python -m gemgate` is the `gemgate` command."""

from gemgate.cli import main

main()
