"""Z3 proofs for the Raft spec: the symbolic transition relation, inductiveness checks with
counterexamples to induction re-evaluated by the executable spec, bounded model checking, and
the Markdown proof report."""
