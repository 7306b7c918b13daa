"""The benchmark suite: ``python -m benchmarks`` (see ``__main__``).

Every scenario times its contenders in paired, interleaved rounds (``harness``) on canned
answers that need no socket (``canned``), after a self-check of the spans each makes
(``selfcheck``), and prints Markdown tables of medians and ratios; ``targets`` compares the run
with the speed targets.
"""
