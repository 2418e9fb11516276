"""Tests of dscheck's proofs layer."""
