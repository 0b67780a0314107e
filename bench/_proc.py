"""CPU and memory of a process and its children, from /proc (for the benchmarks that run the agent)."""

from __future__ import annotations

import os
from pathlib import Path


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, ()))
    return out


def cpu_and_hwm(pids: list[int]) -> tuple[float, int, int]:
    """CPU seconds (utime+stime, children reaped included), peak RSS and RSS (bytes), summed."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu, hwm, rss = 0.0, 0, 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        cpu += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                hwm += int(line.split()[1]) * 1024
            elif line.startswith("VmRSS:"):
                rss += int(line.split()[1]) * 1024
    return cpu, hwm, rss


def hwm_by_process(pids: list[int]) -> list[tuple[int, str, int]]:
    """(pid, command line, peak RSS in bytes) of each process: where the memory is."""
    out = []
    for p in pids:
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        hwm = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)
        out.append((p, cmd, hwm))
    return out
