"""Trace validation: a recorded trace shown to be a behaviour of the spec (a refinement
check, DESIGN.md section 3; docs/trace-validation.md)."""
