"""``python -m benchmarks [--only S1,S2,...] [--rounds N] [--quick] [--instructions]``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from typing import Callable, Optional

from benchmarks import (
    instructions,
    kvp,
    machine,
    memory,
    otel,
    scale,
    scenarios_async,
    scenarios_sync,
    targets,
    throughput,
)
from benchmarks.harness import FULL, QUICK, Sizes

SCENARIOS: dict[str, tuple[str, Callable[[Sizes], targets.Figures]]] = {
    "S1": ("tracing off: pipeline cost", scenarios_sync.run_s1),
    "S2": ("one traced call, one try (and distinct URLs)", scenarios_sync.run_s2),
    "S3": ("one traced call, three tries", scenarios_sync.run_s3),
    "S4": ("async: S1 and S2 on the async pipelines", scenarios_async.run_s4),
    "S5": ("throughput: 8 threads, 50 asyncio tasks", throughput.run_s5),
    "S6": ("KVP writer and the span cost it adds", kvp.run_s6),
    "S7": ("memory after many traced calls", memory.run_s7),
    "S8": ("scale: a real server on 127.0.0.1", scale.run_s8),
}


def _scenarios(text: Optional[str]) -> list[str]:
    if text is None:
        return list(SCENARIOS)
    chosen = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [key for key in chosen if key not in SCENARIOS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"--only takes scenario keys from {', '.join(SCENARIOS)}, got {text!r}"
        )
    return chosen


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Tracing and pipeline cost, side by side with azure-core and hand-wired "
        "OpenTelemetry, as medians of paired, interleaved rounds.",
        epilog="Scenarios: " + "; ".join(f"{key} {title}" for key, (title, _) in SCENARIOS.items()),
    )
    parser.add_argument("--only", type=_scenarios, help="comma-separated scenario keys (S1,S2)")
    parser.add_argument("--rounds", type=int, help="paired rounds per table (default 15; 3 quick)")
    parser.add_argument("--quick", action="store_true", help="a short run for CI (well under 60 s)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per call under valgrind's cachegrind (S1 to S3, sync)",
    )
    parser.add_argument("--valgrind", help="the valgrind to run (default: the one on PATH)")
    parser.add_argument("--count", help=argparse.SUPPRESS)  # internal: one cachegrind child run
    parser.add_argument("--calls", type=int, help=argparse.SUPPRESS)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the chosen scenarios and print their tables; 2 for bad arguments."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be 1 or more, got {args.rounds}")
    if args.count is not None:
        return instructions.child(args.count, args.calls or 1)
    sizes = QUICK if args.quick else FULL
    if args.rounds is not None:
        sizes = dataclasses.replace(sizes, rounds=args.rounds, kvp_rounds=args.rounds)
    keys = args.only or list(SCENARIOS)
    if args.instructions:
        return instructions.run(keys, sizes, args.valgrind)
    print("## Benchmarks: python -m benchmarks" + (" --quick" if args.quick else ""))
    print()
    print(machine.describe())
    print()
    started = time.perf_counter()
    figures: targets.Figures = {}
    for key in keys:
        figures |= SCENARIOS[key][1](sizes)
    print(targets.render(figures, otel.NO_PROCESSOR, otel.BATCH))
    print(f"(all scenarios: {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
