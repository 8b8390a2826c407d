"""The frames parent and worker exchange over their socket pair.

A frame is a fixed binary header (body length, task id, frame kind) and a
body, usually a pickle. Every frame carries its task id, so frames about a
task the parent has given up on are recognised and dropped unread.
"""

from __future__ import annotations

import pickle
import struct

# Body length, task id (0 for frames about the worker itself), frame kind.
_HEADER = struct.Struct("!QQB")
# TASK body prefix: mode, credit window (0: unlimited); the pickled (fn, args) follows.
_TASK_PREFIX = struct.Struct("!BQ")
# CREDIT body: the total number of items the worker may have produced for the task.
_CREDIT_BODY = struct.Struct("!Q")

# Frame kinds, parent to worker.
_TASK = 1
_CREDIT = 2
_CANCEL = 3
# Frame kinds, worker to parent.
_READY = 10
_INIT_FAILED = 11
_ITEM = 12
_END = 13
_ERROR = 14
_MEMORY = 15

# Task modes: iterate what fn returns, or send fn's return value as the one item.
_MODE_STREAM = 0
_MODE_CALL = 1


def _dumps(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

