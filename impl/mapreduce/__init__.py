"""MapReduce (lab 1): a coordinator and crash-prone workers as real processes.

`core` is the coordinator's sans-I/O task state machine; `coordinator` drives it with an
asyncio server; `worker` is the worker loop; `execution` runs single tasks and the sequential
oracle; `runner` starts a whole job; `apps` holds the applications and their loader.
"""

from impl.mapreduce.core import CoordinatorCore, TaskState

__all__ = ["CoordinatorCore", "TaskState"]
