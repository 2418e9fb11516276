"""Tests of dscheck's trace_check layer."""
