"""`python -m checker` is the `dscheck` command."""

from checker.cli.main import main

main()
