"""``--instructions``: instructions per call, counted by valgrind's cachegrind, a second opinion
that no other tenant of the machine can move.

Each contender of S1 to S3 (sync) runs in a child process under
``valgrind --tool=cachegrind --cache-sim=no``, once with N calls and once with 2N, after the
same warm-up; everything but the N extra calls is the same in both runs, so
(I(2N) − I(N)) / N is what one call executes. The children run side by side, one per core.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

from benchmarks import otel, peers, scenarios_sync
from benchmarks.harness import Contender, Samples, Sizes, Table

_WARMUP = 20
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
_NO_PROCESSOR = otel.NO_PROCESSOR


class ValgrindMissingError(RuntimeError):
    """valgrind cannot be found or run."""


def _s1() -> tuple[list[Contender], Table]:
    return scenarios_sync.s1_contenders(), scenarios_sync.S1


def _s2() -> tuple[list[Contender], Table]:
    table = scenarios_sync.traced_table(
        "S2", scenarios_sync.S2_TITLE, _NO_PROCESSOR, scenarios_sync.TRACED_NOTE
    )
    return peers.contenders((200,)), table


def _s3() -> tuple[list[Contender], Table]:
    table = scenarios_sync.traced_table(
        "S3", scenarios_sync.S3_TITLE, _NO_PROCESSOR, scenarios_sync.TRACED_NOTE
    )
    return peers.contenders(scenarios_sync.S3_STATUSES), table


COUNTED: dict[str, Callable[[], tuple[list[Contender], Table]]] = {
    "S1": _s1,
    "S2": _s2,
    "S3": _s3,
}
"""The scenarios ``--instructions`` counts: their contenders and their table."""


def refs(stderr: str) -> int:
    """The total instructions ("I refs") in cachegrind's summary on standard error."""
    found = _REFS.findall(stderr)
    if not found:
        raise ValueError("cachegrind printed no 'I refs' summary")
    return int(found[-1].replace(",", ""))


def child(spec: str, calls: int) -> int:
    """In a child under cachegrind: warm ``spec``'s contender up ("S2:ours: traced"), then
    make ``calls`` calls; 2 when ``spec`` names no counted contender."""
    key, _, name = spec.partition(":")
    build = COUNTED.get(key)
    if build is None:
        print(f"--count: no scenario {key!r} among {', '.join(COUNTED)}", file=sys.stderr)
        return 2
    otel.install()
    contenders = {contender.name: contender for contender in build()[0]}
    contender = contenders.get(name)
    if contender is None or contender.missing:
        print(f"--count: {key} has no contender {name!r} to run", file=sys.stderr)
        return 2
    contender.enter()
    try:
        contender.run(_WARMUP)
        gc.collect()
        gc.disable()  # as in the timed batches: no collection lands in one run only
        contender.run(calls)
        gc.enable()
    finally:
        contender.leave()
    print(f"{spec}: {calls} calls after {_WARMUP} to warm up")
    return 0


def _count(valgrind: str, spec: str, calls: int) -> int:
    command = [
        valgrind,
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks",
        "--count",
        spec,
        "--calls",
        str(calls),
    ]
    environment = dict(os.environ, PYTHONHASHSEED="0")  # the same hashing in every child
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{spec}: the cachegrind child failed:\n{done.stderr[-2000:]}")
    return refs(done.stderr)


def _per_call(valgrind: str, spec: str, calls: int) -> float:
    once = _count(valgrind, spec, calls)
    twice = _count(valgrind, spec, 2 * calls)
    return (twice - once) / calls


def find_valgrind(given: Optional[str]) -> str:
    """The valgrind to run (``given``, else the one on PATH); ``ValgrindMissingError`` if none."""
    path = given or shutil.which("valgrind")
    if path is None or not os.access(path, os.X_OK):
        raise ValgrindMissingError(
            f"--instructions needs valgrind ({given or 'none on PATH'} cannot be run): "
            "install it (Debian: apt-get install valgrind) or run without --instructions"
        )
    return path


def run(keys: Sequence[str], sizes: Sizes, valgrind: Optional[str]) -> int:
    """Count instructions per call for the counted scenarios among ``keys``; 2 when valgrind
    is missing."""
    try:
        program = find_valgrind(valgrind)
    except ValgrindMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    chosen = [key for key in keys if key in COUNTED]
    skipped = [key for key in keys if key not in COUNTED]
    print("## Instructions per call: python -m benchmarks --instructions\n")
    if skipped:
        print(f"(not counted: {', '.join(skipped)}; only {', '.join(COUNTED)} are)\n")
    calls = sizes.instruction_calls
    for key in chosen:
        contenders, table = COUNTED[key]()
        present = [contender.name for contender in contenders if contender.missing is None]
        specs = [f"{key}:{name}" for name in present]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counts = pool.map(lambda spec: _per_call(program, spec, calls), specs)
            samples: Samples = {name: [count] for name, count in zip(present, counts)}
        counted = dataclasses.replace(
            table,
            title=f"{table.title}, instructions",
            unit="instructions/call",
            cost=table.cost.replace("µs", "(instructions)"),
            digits=0,
            note=f"Counted by cachegrind: (I(2N) − I(N)) / N with N = {calls}, after "
            f"{_WARMUP} calls to warm up, each contender in its own child process; cost: the "
            "difference of two contenders' counts; ratio: of the costs. The contenders are "
            "those of the timed table.",
        )
        print(counted.render(samples, f"{len(present)} contenders, two children each."))
    return 0
