"""`python -m checker` is the `dscheck` command."""

import sys

from checker.cli.main import main

sys.exit(main())
