"""Parallel exploration: placeholder replaced below."""
