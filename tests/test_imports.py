"""What each top-level import loads: an application that only sets a tracer provider, and a
provisioning agent that only wants the diagnostics layers, load no HTTP stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HTTP_STACK = (
    "requests",
    "urllib3",
    "aiohttp",
    "azure_core_tracing.http.pipeline",
    "azure_core_tracing.http.async_pipeline",
    "azure_core_tracing.http.requests_transport",
    "azure_core_tracing.http.aiohttp_transport",
)


def _loaded_after(statement: str) -> list[str]:
    script = (
        "import json, sys\n"
        f"{statement}\n"
        f"print(json.dumps([m for m in {HTTP_STACK!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


@pytest.mark.parametrize(
    "statement",
    [
        "import azure_core_tracing",
        "import azure_core_tracing.http",
        "import azure_core_tracing.http.conventions",
        "import azure_core_tracing_opentelemetry",
        "from azure_core_tracing_opentelemetry import OpenTelemetryProvider, ConsoleTreeExporter",
        "import azure_core_tracing_opentelemetry.diagnostics",
        "from azure_core_tracing_opentelemetry.diagnostics import setup_layers",
    ],
)
def test_a_top_level_import_loads_no_http_stack(statement: str) -> None:
    assert _loaded_after(statement) == []


def test_a_name_of_the_http_package_loads_its_module_when_first_used() -> None:
    loaded = _loaded_after("from azure_core_tracing.http import HttpPipeline")
    assert "requests" in loaded
    assert "azure_core_tracing.http.pipeline" in loaded
    assert "aiohttp" not in loaded


def test_every_name_the_http_package_exports_can_be_imported() -> None:
    from azure_core_tracing import http

    # The transport errors' names of the release before, kept for one release, are the error
    # model's own classes.
    aliases = {"TransportError", "TransportConnectionError", "TransportTimeoutError"}
    for name in http.__all__:
        value = getattr(http, name)
        home = "azure_core_tracing.exceptions" if name in aliases else "azure_core_tracing.http."
        assert isinstance(value, str) or value.__module__.startswith(home)
    assert sorted(dir(http)) == sorted(set(dir(http)) | set(http.__all__))
    with pytest.raises(AttributeError, match="no_such_name"):
        http.no_such_name  # noqa: B018
