"""Tests of dscheck's invariants layer."""
