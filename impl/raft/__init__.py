"""Raft (Raft paper; 6.5840 lab 2): the sans-I/O core, its messages and effects, the persister, the simulator driver."""
