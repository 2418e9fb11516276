"""Checks of the shard controller's rebalancing: minimality proved with Z3 (`minimality`),
over a sequence of Join/Leave/Move read from a file or the command line (`sequence`); and
the audit of a controller run's history for linearizability (`audit`)."""
