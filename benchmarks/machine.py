"""What the numbers ran on: CPU, cores, Python, the packages compared, and the environment
variables that change what ``requests`` does per call."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "azure-core-tracing",
    "requests",
    "azure-core",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation-requests",
    "aiohttp",
)
_ENVIRONMENT = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NETRC",
)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> str:
    """A few Markdown lines naming the machine, the Python and the package versions."""
    packages = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    present = [name for name in _ENVIRONMENT if name in os.environ or name.lower() in os.environ]
    return "\n".join(
        (
            f"- machine: {_cpu()}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}",
            f"- Python {platform.python_version()} ({platform.python_implementation()})",
            f"- packages: {packages}",
            f"- environment: {len(os.environ)} variables; set among those requests reads: "
            f"{', '.join(present) or 'none'}",
        )
    )
