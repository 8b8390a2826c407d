"""The frames parent and worker exchange over their socket pair.

A frame is a fixed binary header (body length, task id, frame kind) and a
body, usually a pickle. Every frame carries its task id, so frames about a
task the parent has given up on are recognised and dropped unread.
"""

from __future__ import annotations

import enum
import pickle
import struct

# Body length, task id (0 for frames about the worker itself), frame kind.
_HEADER = struct.Struct("!QQB")
# TASK body prefix: mode, credit window (0: unlimited); the pickled (fn, args) follows.
_TASK_PREFIX = struct.Struct("!BQ")
# CREDIT body: the total number of items the worker may have produced for the task.
_CREDIT_BODY = struct.Struct("!Q")


class Frame(enum.IntEnum):
    # Parent to worker.
    TASK = 1
    CREDIT = 2
    CANCEL = 3
    # Worker to parent.
    READY = 10
    INIT_FAILED = 11
    ITEM = 12
    END = 13
    ERROR = 14
    MEMORY = 15


class Mode(enum.IntEnum):
    """Iterate what fn returns, or send fn's return value as the one item."""

    STREAM = 0
    CALL = 1


def _dumps(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
