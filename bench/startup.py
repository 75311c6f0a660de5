"""`coo bench --startup`: how long `coo` takes to start, as whole processes.

Runs `coo --help`, `coo parse "Acme paid $4,000"` (offline parser) and a bare interpreter
(`python -c pass`, the baseline) as separate processes, round-robin so a busy machine slows
them alike, and prints the median wall time of each and its ratio to the baseline. The
commands run as ``sys.executable -m bot.cli`` from the directory holding this checkout's
packages, so they start the same code as the bench. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the directory that holds bench/, bot/, graphs/…
PARSE_TEXT = "Acme paid $4,000"
BASELINE = "python -c pass"


def commands() -> dict[str, list[str]]:
    """Label → argv, baseline first."""
    coo = [sys.executable, "-m", "bot.cli"]
    return {
        BASELINE: [sys.executable, "-c", "pass"],
        "coo --help": [*coo, "--help"],
        f'coo parse "{PARSE_TEXT}"': [*coo, "parse", PARSE_TEXT],
    }


def _once(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} exited with {done.returncode}: {done.stderr.strip()[-500:]}")
    return elapsed


def measure(runs: int) -> dict[str, dict[str, float | int]]:
    """Median wall time (ms) of each command over ``runs`` runs, after one untimed warm-up round,
    and its ratio to the bare interpreter's."""
    env = dict(os.environ, COO_MODEL_SMALL="offline")  # `coo parse` with the offline parser
    argvs = commands()
    times: dict[str, list[float]] = {label: [] for label in argvs}
    for round_ in range(runs + 1):
        for label, argv in argvs.items():
            elapsed = _once(argv, env)
            if round_:  # round 0 warms the file cache
                times[label].append(elapsed)
    base = statistics.median(times[BASELINE])
    return {
        label: {
            "median_ms": round(statistics.median(t) * 1000, 1),
            "min_ms": round(min(t) * 1000, 1),
            "ratio_to_bare_python": round(statistics.median(t) / base, 1),
            "runs": len(t),
        }
        for label, t in times.items()
    }


def render(figures: dict[str, dict[str, float | int]], runs: int) -> str:
    width = max(len(label) for label in figures)
    lines = [
        f"Process start: median wall time of {runs} run(s) each, whole processes, "
        f"baseline `{BASELINE}` measured in the same run",
        f"  {'command'.ljust(width)}  {'median':>9}  {'min':>9}  × bare python",
    ]
    for label, f in figures.items():
        lines.append(
            f"  {label.ljust(width)}  {f['median_ms']:>6.0f} ms  {f['min_ms']:>6.0f} ms"
            f"  {f['ratio_to_bare_python']:>6.1f}×"
        )
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    runs = args.runs if args.runs is not None else 7
    if runs < 1:
        print("coo bench --startup: --runs must be 1 or more", file=sys.stderr)
        return 2
    print(f"bench: process start, {runs} run(s) of each command…", file=sys.stderr, flush=True)
    figures = measure(runs)
    sys.stdout.write(render(figures, runs) + "\n")
    sys.stdout.write(json.dumps({"bench": {"startup": figures}}, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0
