"""``python -m azure_core_tracing_opentelemetry.diagnostics``: the ``azure-core-tracing-kvp``
command line (``kvp_cli``), azure-init's ``libazureinit-kvp`` verbs for a KVP pool."""

from __future__ import annotations

import sys

from azure_core_tracing_opentelemetry.diagnostics.kvp_cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
