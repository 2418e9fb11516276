"""Everything that judges: linearizability, model checking, invariants, trace validation, proofs."""
