from __future__ import annotations

import subprocess
import sys
import textwrap


def test_core_package_never_imports_opentelemetry() -> None:
    """Every module under azure_core_tracing, imported in a fresh interpreter."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import azure_core_tracing
        names = [m.name for m in pkgutil.walk_packages(
            azure_core_tracing.__path__, "azure_core_tracing.")]
        for name in names:
            importlib.import_module(name)
        leaked = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")
        print(len(names), leaked)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    count, leaked = result.stdout.strip().split(" ", 1)
    assert int(count) >= 5, result.stdout
    assert leaked == "[]"


def test_opentelemetry_is_installed_so_the_check_above_means_something() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import opentelemetry.trace"], capture_output=True, check=False
    )
    assert result.returncode == 0
