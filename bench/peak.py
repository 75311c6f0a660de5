"""Run one command and report its own wall time and peak memory: ``python -m bench.peak CMD …``
prints ``{"seconds": …, "peak_mb": …, "returncode": …}`` on stdout (the command's stdout is
discarded, its stderr passes through) and exits with the command's status.

Why a launcher: Linux carries a process's peak resident size across fork and exec, so a command
started straight from a large process (the benchmark, holding its runtime and the books it
built) reports that process's size as its own peak — which made `coo export` look as if it grew
with the books. Started from this small process instead, the figure is the command's. Only the
standard library is imported here, for the same reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m bench.peak COMMAND [ARG …]", file=sys.stderr)
        return 2
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    print(json.dumps({"seconds": round(seconds, 3), "peak_mb": round(peak_mb, 1), "returncode": code}), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
