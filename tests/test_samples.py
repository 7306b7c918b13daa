"""Every sample runs as ``python samples/<name>.py`` from the repository root and does its job."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from azure_core_tracing_opentelemetry.diagnostics import read_kvp_pool
from tests.otlp_receiver import OtlpReceiver

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p.name for p in (ROOT / "samples").glob("*.py") if p.name != "local_server.py")
# Samples that are packages, run as ``python -m samples.<name>``.
PACKAGES = sorted(p.parent.name for p in (ROOT / "samples").glob("*/__main__.py"))


def run_sample(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, f"samples/{name}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_every_sample_is_covered_here() -> None:
    assert SAMPLES == [
        "application_provider.py",
        "async_client.py",
        "client_options_provider.py",
        "in_memory_exporter.py",
        "otlp_exporter.py",
        "quickstart.py",
        "service_client.py",
        "vm_provisioning.py",
        "w3c_test_service.py",  # a server: driven by tests/test_w3c_test_service.py
    ]
    assert PACKAGES == ["blob_storage"]  # needs Azurite: run by tests/storage/test_blob_sample.py


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "samples").glob("*.py")))
def test_every_sample_answers_help_with_what_it_does_and_does_nothing_else(name: str) -> None:
    result = subprocess.run(
        [sys.executable, f"samples/{name}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,  # a sample that starts serving instead never ends: this fails it
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {name} [-h]"), result.stdout
    assert result.stderr == ""
    assert "Serving on" not in result.stdout and "ready on" not in result.stdout


@pytest.mark.parametrize("name", PACKAGES)
def test_every_sample_package_answers_help_with_what_it_does_and_does_nothing_else(
    name: str,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", f"samples.{name}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m samples.{name} [-h]"), result.stdout
    assert result.stderr == ""
    assert "starting Azurite" not in result.stdout


def test_quickstart_prints_the_span_tree_and_the_traceparents_received() -> None:
    out = run_sample("quickstart.py")
    lines = out.splitlines()
    trace_line = next(line for line in lines if line.startswith("trace "))
    trace_id = trace_line.split()[1]
    tree = lines[lines.index(trace_line) + 1 : lines.index(trace_line) + 4]
    assert tree[0].startswith("└─ SampleServiceClient.get_item  [INTERNAL]")
    assert "  OK  " in tree[0]
    assert tree[1].startswith("   ├─ HTTP GET #0  [CLIENT]") and "http.status_code=503" in tree[1]
    assert "ERROR" in tree[1]
    assert tree[2].startswith("   └─ HTTP GET #1  [CLIENT]") and "http.status_code=200" in tree[2]
    parents = re.findall(r"\(try (\d)\): (00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2})", out)
    assert [number for number, _ in parents] == ["0", "1"]
    assert parents[0][1] != parents[1][1]
    assert all(tp.split("-")[1] == trace_id for _, tp in parents)


def test_quickstart_exports_over_otlp_and_flushes_before_exit(otlp_receiver: OtlpReceiver) -> None:
    out = run_sample("quickstart.py", "--exporter", "otlp", "--endpoint", otlp_receiver.endpoint)
    assert "└─ SampleServiceClient.get_item" in out  # still prints the tree
    assert f"OTLP: 3 spans sent to {otlp_receiver.endpoint}" in out
    names = sorted(s.name for s in otlp_receiver.wait_for(3))
    assert names == ["HTTP GET #0", "HTTP GET #1", "SampleServiceClient.get_item"]


def test_quickstart_says_when_no_collector_is_there() -> None:
    from tests.local_server import refused_url

    endpoint = refused_url("/v1/traces")
    out = run_sample("quickstart.py", "--exporter", "otlp", "--endpoint", endpoint)
    assert "└─ SampleServiceClient.get_item" in out
    assert f"OTLP: 3 spans could not be sent to {endpoint}" in out


def test_otlp_exporter_sample_sends_every_span(otlp_receiver: OtlpReceiver) -> None:
    out = run_sample("otlp_exporter.py", "--endpoint", otlp_receiver.endpoint)
    assert "OTLP: 5 spans sent" in out
    spans = otlp_receiver.wait_for(5)
    assert {s.resource["service.name"] for s in spans} == {"otlp-sample"}


def test_application_provider_sample_nests_both_clients_under_the_app_span() -> None:
    out = run_sample("application_provider.py")
    assert "└─ checkout  [INTERNAL]" in out
    assert "   ├─ SampleServiceClient.get_item" in out
    assert "   └─ SampleServiceClient.delete_item" in out
    assert "HTTP DELETE #0" in out


def test_client_options_provider_sample_routes_spans_by_client() -> None:
    out = run_sample("client_options_provider.py")
    assert "per-client provider traced the calls for:  ['special']" in out
    assert "application provider traced the calls for: ['ordinary']" in out
    assert "User-Agent sent by the client: MyApplication azsdk-python-contoso-sample/1.0.0" in out


def test_in_memory_exporter_sample_checks_its_spans() -> None:
    assert "3 spans checked" in run_sample("in_memory_exporter.py")


def test_async_client_sample_traces_each_concurrent_call_as_its_own_tree() -> None:
    out = run_sample("async_client.py")
    trees = out.split("trace ")[1:]
    assert len(trees) == 3
    for tree in trees:
        lines = tree.splitlines()
        assert lines[1].startswith("└─ AsyncSampleServiceClient.get_item  [INTERNAL]")
        assert lines[2].startswith("   ├─ HTTP GET #0  [CLIENT]") and "503" in lines[2]
        assert lines[3].startswith("   └─ HTTP GET #1  [CLIENT]") and "200" in lines[3]
        items = {re.search(r"/items/(\w+)\?", line).group(1) for line in lines[2:4]}  # type: ignore[union-attr]
        assert len(items) == 1  # both tries of one call fetch the same item
    assert "items: ['red', 'green', 'blue']" in out


def test_service_client_sample_shows_both_forms_and_the_failure() -> None:
    out = run_sample("service_client.py")
    assert "SampleServiceClient.get_item  [INTERNAL]" in out
    assert "SampleServiceClient.delete_item  [INTERNAL]" in out
    assert "exception=__main__.SampleServiceError" in out
    assert "(the caller still gets the error: 404" in out


def test_vm_provisioning_sample_writes_the_layers_and_dumps_the_pool(tmp_path: Path) -> None:
    pool, log = tmp_path / ".kvp_pool_1", tmp_path / "agent.log"
    out = run_sample("vm_provisioning.py", "--pool", str(pool), "--log", str(log))
    assert "layers: stderr, kvp, file" in out
    dumped = out.split(f"KVP pool {pool}:\n", 1)[1].splitlines()
    keys = [line.split("=", 1)[0] for line in dumped]
    names = [key.split("|")[3] for key in keys if key != "PROVISIONING_REPORT"]
    # Off Azure, the library's own "VM id unreadable" warning is there too: leave it aside.
    names = [name for name in names if not name.startswith("azure_core_tracing")]
    assert names == [
        "contoso-imds:ImdsClient.get_instance",
        "vm_provisioning:user created",
        "vm_provisioning:create_user",
        "vm_provisioning:provision",
        "vm_provisioning:provision",
        "vm_provisioning:configure_ssh",
        "vm_provisioning:provision",
    ]
    report = dumped[keys.index("PROVISIONING_REPORT")].split("=", 1)[1]
    assert re.fullmatch(
        r"result=success\|agent=vm-provisioning-sample/1\.0\|pps_type=None\|vm_id=[0-9a-f-]{36}"
        r"\|timestamp=[0-9T:.-]+\+00:00\|steps=3",
        report,
    )
    assert len(read_kvp_pool(pool)) == len(dumped)
    assert "password authentication stays disabled" in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_vm_provisioning_sample_cleans_up_its_temporary_folder() -> None:
    out = run_sample("vm_provisioning.py")
    folder = Path(out.split("KVP pool ", 1)[1].split(":", 1)[0]).parent
    assert "PROVISIONING_REPORT=result=success" in out
    assert not folder.exists()
