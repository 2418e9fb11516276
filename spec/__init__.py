"""Executable specifications: pure, immutable, no I/O (see DESIGN.md section 2)."""
