from __future__ import annotations

import platform
import re
from pathlib import Path
from typing import Optional

import pytest

from azure_core_tracing import (
    ClientOptions,
    Context,
    RetryOptions,
    TelemetryOptions,
    TracingContextFactory,
)
from azure_core_tracing.http import (
    PIPELINE_ORDER,
    HttpPolicy,
    HttpTransport,
    RawResponse,
    Request,
    RequestActivityPolicy,
    RequestsTransport,
    RetryPolicy,
    SansIOHttpPolicy,
    TransportPolicy,
)
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.tracing import NoOpTracerProvider
from tests.http.conftest import for_kind, make_pipeline
from tests.local_server import LocalServer, Reply

UA = re.compile(r"^azsdk-python-azure-widgets/3\.1\.4 Python/\d+\.\d+\.\d+ \(.+\)$")


class _Recorder(SansIOHttpPolicy):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        self.log.append(f"{self.name}:{RetryPolicy.get_retry_count(context)}")
        return None


class _FakeTransport(HttpTransport):
    """A transport of the caller's own (a swap-in point, not a mock of requests)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict[str, str]] = []

    def send(self, request: Request, context: Context) -> RawResponse:
        self.requests.append(dict(request.headers))
        return RawResponse(self.statuses.pop(0), "X", {"x-ms-request-id": "svc"})


def test_per_call_policies_run_once_and_per_retry_policies_every_try() -> None:
    log: list[str] = []
    options = ClientOptions(retry=RetryOptions(retry_delay=0.0))
    pipeline = make_pipeline(
        options,
        "azure-widgets",
        "3.1.4",
        per_call_policies=[_Recorder("call", log)],
        per_retry_policies=[_Recorder("retry", log)],
        transport=_FakeTransport(503, 200),
        sleep=lambda _: None,
    )
    assert pipeline.send(Request("GET", "https://example.test/")).status_code == 200
    assert log == ["call:-1", "retry:0", "retry:1"]


def test_the_fixed_order_is_the_cpp_sdks_and_written_once() -> None:
    log: list[str] = []
    pipeline = make_pipeline(
        ClientOptions(),
        "azure-widgets",
        "3.1.4",
        transport=_FakeTransport(),
        per_call_policies=[_Recorder("call", log)],
        per_retry_policies=[_Recorder("retry", log)],
    )
    names = [type(p).__name__ for p in pipeline.policies]
    assert names == [
        "_Recorder",
        "RequestIdPolicy",
        "TelemetryPolicy",
        "RedirectPolicy",
        "RetryPolicy",
        "_Recorder",
        "RequestActivityPolicy",
        "LogPolicy",
        "TransportPolicy",
    ]
    assert PIPELINE_ORDER == (
        "per-call policies → RequestIdPolicy → TelemetryPolicy → RedirectPolicy → RetryPolicy → "
        "per-retry policies → RequestActivityPolicy → LogPolicy → TransportPolicy"
    )
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert " ".join(PIPELINE_ORDER.split()) in " ".join(readme.split())


@pytest.mark.parametrize("argument", ["per_call_policies", "per_retry_policies"])
@pytest.mark.parametrize(
    "policy",
    [
        RetryPolicy(RetryOptions()),
        TransportPolicy(RequestsTransport()),
        RequestActivityPolicy(
            TracingContextFactory(ClientOptions(), "Svc", "1.0"), HttpSanitizer()
        ),
    ],
)
def test_fixed_policies_in_custom_lists_are_a_value_error(
    argument: str, policy: HttpPolicy
) -> None:
    with pytest.raises(ValueError, match=f"{argument}.*fixed order.*RetryPolicy"):
        make_pipeline(ClientOptions(), "azure-widgets", "3.1.4", **{argument: [policy]})


def test_custom_lists_must_hold_policies() -> None:
    with pytest.raises(TypeError, match="per_call_policies"):
        make_pipeline(ClientOptions(), "azure-widgets", "1", per_call_policies=[object()])


def test_user_agent_without_application_id(server: LocalServer) -> None:
    url = server.script("/ua", Reply(200))
    make_pipeline(ClientOptions(), "azure-widgets", "3.1.4").send(Request("GET", url))
    agent = server.received[0].headers["user-agent"]
    assert UA.match(agent), agent
    assert f"Python/{platform.python_version()} " in agent


def test_user_agent_with_application_id_comes_first(server: LocalServer) -> None:
    url = server.script("/ua", Reply(200))
    options = ClientOptions(telemetry=TelemetryOptions(application_id="MyApplication"))
    make_pipeline(options, "azure-widgets", "3.1.4").send(Request("GET", url))
    agent = server.received[0].headers["user-agent"]
    assert agent.startswith("MyApplication azsdk-python-azure-widgets/3.1.4 ")
    assert UA.match(agent.removeprefix("MyApplication "))


def test_a_callers_user_agent_is_kept_after_the_sdks(server: LocalServer) -> None:
    url = server.script("/ua", Reply(200))
    make_pipeline(ClientOptions(), "azure-widgets", "3.1.4").send(
        Request("GET", url, {"User-Agent": "custom/1"})
    )
    agent = server.received[0].headers["user-agent"]
    assert agent.startswith("azsdk-python-azure-widgets/3.1.4 ") and agent.endswith(" custom/1")


def test_invalid_application_id_fails_where_it_is_set() -> None:
    options = ClientOptions()
    with pytest.raises(ValueError, match="application_id"):
        options.telemetry.application_id = "has white space"


def test_a_callers_request_id_is_kept() -> None:
    transport = _FakeTransport(200)
    make_pipeline(ClientOptions(), "azure-widgets", "1", transport=transport).send(
        Request("GET", "https://example.test/", {"X-MS-Client-Request-Id": "mine"})
    )
    assert transport.requests[0]["X-MS-Client-Request-Id"] == "mine"


def test_transport_is_taken_from_client_options() -> None:
    transport = _FakeTransport(200)
    options = ClientOptions(transport=for_kind(transport))
    options.telemetry.tracing_provider = NoOpTracerProvider()
    response = make_pipeline(options, "azure-widgets", "1").send(Request("GET", "https://x.test/"))
    assert response.headers["X-MS-REQUEST-ID"] == "svc"
    assert len(transport.requests) == 1


def test_pipeline_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="client_options"):
        make_pipeline(None, "azure-widgets", "1")
    with pytest.raises(ValueError, match="package_name"):
        make_pipeline(ClientOptions(), "", "1")
