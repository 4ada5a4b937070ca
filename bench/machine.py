"""How fast the machine was while a benchmark ran, printed beside its numbers.

The same commit measured on two machines of the same kind has differed by 1.5-2x
(shared cores: another tenant's load shows as CPU *steal*).  Each benchmark prints
this line so two runs can be compared: the time of a fixed pure-Python loop, and
the share of CPU time the hypervisor gave to someone else during the run.
"""

from __future__ import annotations

import time
from pathlib import Path

_STAT = Path("/proc/stat")


def _cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs since boot, where the kernel reports them."""
    try:
        fields = _STAT.read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    steal = ticks[7] if len(ticks) > 7 else 0
    return steal, sum(ticks[:8])


def loop_ms(n: int = 3_000_000) -> float:
    """Milliseconds of a fixed loop of ``n`` additions (best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - started)
    return 1000 * best


class MachineWatch:
    """Started before a benchmark, :meth:`line` after it."""

    def __init__(self) -> None:
        self.start = _cpu_ticks()

    def line(self) -> str:
        end = _cpu_ticks()
        steal = ""
        if self.start is not None and end is not None and end[1] > self.start[1]:
            share = (end[0] - self.start[0]) / (end[1] - self.start[1])
            steal = f", CPU steal during the run {share:.0%}"
        return f"machine: a fixed 3M-step Python loop takes {loop_ms():.0f} ms{steal}"
