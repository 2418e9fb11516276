"""The systems: sans-I/O protocol cores and the drivers that run them (DESIGN.md section 1)."""
