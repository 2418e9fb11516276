"""The models the one search runs: a spec bound to its configuration, one class per spec.

A new spec (key/value, shard controller, sharded KV) adds a module here with its `Model`
subclass, never a search of its own.
"""

from checker.modelcheck.models.mapreduce import MapReduceModel
from checker.modelcheck.models.raft import ENGINES, SEMANTICS, RaftModel
from checker.modelcheck.models.shardctrler import ShardCtrlerModel
from checker.modelcheck.models.shardkv import ShardKVModel

__all__ = ["ENGINES", "SEMANTICS", "MapReduceModel", "RaftModel", "ShardCtrlerModel", "ShardKVModel"]
