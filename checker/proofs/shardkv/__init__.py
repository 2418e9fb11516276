"""The sharded KV spec's proofs: its Init and Next in Z3 (`symbolic`, `transition`), and its
invariants (`checker.invariants.shardkv`) proved inductive (`induction`)."""
