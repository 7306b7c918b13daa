"""A small VM provisioning flow with the diagnostics layers: Hyper-V KVP, stderr and a log file.

It traces a few steps, logs as it goes, records a success health report and, at the end, dumps
the KVP pool with the ``azure-core-tracing-kvp`` command line (``dump --join``, as the host's
records put back together). Pool and log go to a temporary folder unless given.

Run: ``python samples/vm_provisioning.py [--pool PATH] [--log PATH]``
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Optional

from azure_core_tracing import ClientOptions, SpanStatus, TracingContextFactory
from azure_core_tracing_opentelemetry.diagnostics import (
    ProvisioningReport,
    TelemetryConfig,
    setup_layers,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_cli import main as kvp_cli

AGENT = "vm-provisioning-sample/1.0"
log = logging.getLogger("vm_provisioning")


def provision(pool: Path, log_path: Path) -> int:
    config = TelemetryConfig(
        # KVP: warnings from everyone, the whole flow from this agent and its Azure client.
        kvp_filter="warn,vm_provisioning=info,contoso-imds=info",
        log_path=str(log_path),
    )
    layers = setup_layers(config, kvp_pool_path=str(pool))
    layers.install()  # Azure service clients trace into these layers too
    tracer = layers.provider.get_tracer("vm_provisioning")
    vm_id = layers.kvp_writer.vm_id if layers.kvp_writer else "unknown"
    imds = TracingContextFactory(
        ClientOptions(), "Contoso.Imds", "1.0", package_name="contoso-imds"
    )

    with tracer.start_as_current_span("provision"):
        with imds.create_span("ImdsClient.get_instance") as scope:  # an SDK call, traced
            scope.span.add_attribute("compute.osType", "Linux")
            scope.span.set_status(SpanStatus.OK)
        with tracer.start_as_current_span("create_user") as span:
            span.add_event("user created", {"user": "azureuser", "groups": ("sudo", "adm")})
        with tracer.start_as_current_span("configure_ssh"):
            log.info("writing %d authorized keys", 2)
            log.warning("password authentication stays disabled")
        report = ProvisioningReport.success(AGENT, vm_id, steps=3)
        log.info("provisioning complete", extra={"health_report": report})
    layers.shutdown()

    print(f"layers: {', '.join(layers.layers)}")
    print(f"log file {log_path}: {len(log_path.read_text().splitlines())} lines")
    print(f"KVP pool {pool}:")
    sys.stdout.flush()
    return kvp_cli(["--pool-file", str(pool), "dump", "--join"])


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, help="KVP pool (default: in a temporary folder)")
    parser.add_argument("--log", type=Path, help="log file (default: in a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vm-provisioning-") as folder:
        pool = args.pool or Path(folder) / ".kvp_pool_1"
        log_path = args.log or Path(folder) / "azure-init.log"
        return provision(pool, log_path)


if __name__ == "__main__":
    sys.exit(main())
