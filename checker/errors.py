"""Where `BadInput` used to live; it is now `spec.errors.BadInput` (the same class).

Kept only for the modules that other work in progress rewrites (checker/linearizability/
formats.py, checker/cli/lin.py, checker/cli/sim.py, checker/trace_check/ and its tests): they
import it from here until they land, and this module then goes. New code imports
`spec.errors`; `except BadInput` catches the same class through either name.
"""

from spec.errors import BadInput

__all__ = ["BadInput"]
