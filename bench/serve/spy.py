"""py-spy on a running `jiesu serve` for a counted run, and its samples summarised by part.

py-spy (`pip install py-spy`, not a project dependency) samples the server's processes only
while a thread holds the GIL (`record --gil --subprocesses --format raw`); the parts' shares are
inclusive shares of those samples. Used by groups.py and bench_load.py (`--spy FILE`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Frames whose inclusive share of the GIL-holding samples is printed.
PARTS = [
    "_store", "proposal_record", "prime", "_categories", "explain", "candidates",
    "catch_up", "find_duplicates", "find_place", "request_type", "nfkc", "stored_keys",
    "insert_returning_ids", "insert_rows", "_link_siblings", "run_asgi", "_action_route",
]  # fmt: skip


def record(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """py-spy recording the process `pid` and its children for `seconds` into `out`."""
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        raise SystemExit(f"--spy needs py-spy: {py_spy.parent / 'pip'} install py-spy")
    return subprocess.Popen(
        [str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--gil", "--nonblocking",
         "--threads", "--format", "raw", "--duration", str(round(seconds)), "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def summarise(raw: Path) -> str:
    """py-spy's raw stacks ("frame;frame;… count" a line): each process's share of the samples
    and each part's inclusive share."""
    total = 0
    by_process: dict[str, int] = {}
    parts = dict.fromkeys(PARTS, 0)
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        # With --subprocesses a worker's stack starts with the supervisor's frame, then its own.
        process = [f for f in frames if f.startswith("process ")][-1].split(":")[0]
        by_process[process] = by_process.get(process, 0) + n
        # A frame is "qualified.name (file:line)": a method counts by its own name, a closure
        # ("_action_route.<locals>.endpoint") by its own and by its maker's.
        names = {n for f in frames for n in f.split(" (")[0].split(".") if n != "<locals>"}
        for part in PARTS:
            if part in names:
                parts[part] += n
    total = total or 1
    lines = [f"{p}: {n / total * 100:.1f} % of samples" for p, n in sorted(by_process.items())]
    lines += [f"  {part}: {n / total * 100:.1f} %" for part, n in parts.items()]
    return "\n".join(lines)
