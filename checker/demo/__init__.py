"""`dscheck demo`: a simulated Raft cluster under faults, recorded, then every checker run on it."""
