"""What the tests that end runs share: the processes of a run's process group, read from Linux's /proc."""

from __future__ import annotations

import os
from pathlib import Path


def group_members(leader: int, *, running_only: bool = False) -> list[int]:
    """The processes of the process group ``leader`` leads; ``running_only``: without zombies (processes that have
    ended, waiting to be reaped: by init once their parent ended first)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:  # ended meanwhile
                continue
            state, _, group = stat.rpartition(")")[2].split()[:3]
            if int(group) == leader and not (running_only and state == "Z"):
                members.append(int(entry))
    return members
