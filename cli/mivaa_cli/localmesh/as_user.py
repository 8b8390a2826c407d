"""Run a program as another user without forking a Python process that holds threads.

Python's subprocess vforks (or posix_spawns) a child, which then runs only async-signal-safe C up to
exec, unless it is asked to change identity: with `user=`, `group=`, `extra_groups=` (or a
`preexec_fn`) it calls fork() instead. fork() runs every pthread_atfork handler, gRPC's among them,
and a child forked while other threads are inside gRPC can die before it reaches exec ("Other
threads are currently calling into gRPC, skipping fork() handlers", then "Fatal Python error:
Segmentation fault": seen when the fault test restarted PostgreSQL, and possible in the supervisor of
`mivaa up`, which holds gRPC channels too).

So nothing in the mesh passes those arguments (tests/platform/test_fork_safe_starts.py checks the
tree). A program that must run as another user is started through this file instead:

    subprocess.Popen(as_user(["/path/to/postgres", ...], uid, gid))

subprocess vforks `python -I -S as_user.py UID GID -- PROGRAM ARGS`, a fresh interpreter with no
threads and no gRPC, which drops to the user (no supplementary groups) and execs the program under
the same pid. This file imports nothing but the standard library: it runs isolated, without
site-packages.
"""

from __future__ import annotations

import os
import sys

# What env(1) answers when the program cannot be run, and for a bad command line.
_CANNOT_RUN = 127
_USAGE = 2


def as_user(argv: list[str], uid: int, gid: int) -> list[str]:
    """The command line that runs argv as uid:gid with no supplementary groups."""
    if not argv:
        raise ValueError("no program to run")
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), str(int(uid)), str(int(gid)), "--", *argv]


def drop_and_exec(args: list[str]) -> None:
    """UID GID -- PROGRAM ARGS: become uid:gid (groups first, the uid last), then exec PROGRAM."""
    if len(args) < 4 or args[2] != "--" or not (args[0].isdigit() and args[1].isdigit()):
        sys.stderr.write("usage: as_user.py UID GID -- PROGRAM [ARGS...]\n")
        sys.exit(_USAGE)
    uid, gid, argv = int(args[0]), int(args[1]), args[3:]
    try:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    except OSError as error:
        sys.stderr.write(f"as_user: cannot become {uid}:{gid}: {error.strerror}\n")
        sys.exit(_CANNOT_RUN)
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        sys.stderr.write(f"as_user: cannot run {argv[0]}: {error.strerror}\n")
        sys.exit(_CANNOT_RUN)


if __name__ == "__main__":
    drop_and_exec(sys.argv[1:])
