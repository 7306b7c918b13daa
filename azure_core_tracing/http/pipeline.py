"""``HttpPipeline``: the fixed order of policies every request of a client goes through."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType
from typing import Callable, Optional

from azure_core_tracing.context import Context
from azure_core_tracing.factory import TracingContextFactory
from azure_core_tracing.http.activity import RequestActivityPolicy
from azure_core_tracing.http.log import LogPolicy
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import HttpPolicy, NextPolicy
from azure_core_tracing.http.request_id import RequestIdPolicy
from azure_core_tracing.http.requests_transport import RequestsTransport
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.telemetry import TelemetryPolicy
from azure_core_tracing.http.transport import HttpTransport, TransportPolicy
from azure_core_tracing.options import ClientOptions

PIPELINE_ORDER = (
    "per-call policies → RequestIdPolicy → TelemetryPolicy → RetryPolicy → per-retry policies "
    "→ RequestActivityPolicy → LogPolicy → TransportPolicy"
)
_FIXED_POLICIES = (RetryPolicy, RequestActivityPolicy, TransportPolicy)


class _Link(NextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: HttpPolicy, next_link: NextPolicy) -> None:
        self._policy = policy
        self._next = next_link

    def send(self, request: Request, context: Context) -> RawResponse:
        return self._policy.send(request, self._next, context)


class _End(NextPolicy):
    def send(self, request: Request, context: Context) -> RawResponse:
        raise RuntimeError("the transport policy must be the last policy and call no further")


def _check_custom(policies: Sequence[HttpPolicy], argument: str) -> list[HttpPolicy]:
    checked = list(policies)
    for policy in checked:
        if not isinstance(policy, HttpPolicy):
            raise TypeError(f"{argument} must hold HttpPolicy objects, got {type(policy).__name__}")
        if isinstance(policy, _FIXED_POLICIES):
            raise ValueError(
                f"{argument} must not hold a {type(policy).__name__}: the pipeline places it "
                f"itself, in a fixed order: {PIPELINE_ORDER}"
            )
    return checked


class HttpPipeline:
    """Sends a client's requests through its policies, in the order of the C++ SDK.

    ``sleep`` is what the retry policy waits with (tests pass a recorder).
    """

    def __init__(
        self,
        client_options: ClientOptions,
        package_name: str,
        package_version: str,
        *,
        service_name: Optional[str] = None,
        per_call_policies: Sequence[HttpPolicy] = (),
        per_retry_policies: Sequence[HttpPolicy] = (),
        transport: Optional[HttpTransport] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(client_options, ClientOptions):
            raise TypeError(
                f"client_options must be a ClientOptions, got {type(client_options).__name__}"
            )
        if not isinstance(package_name, str) or not package_name:
            raise ValueError("package_name must be a non-empty str")
        per_call = _check_custom(per_call_policies, "per_call_policies")
        per_retry = _check_custom(per_retry_policies, "per_retry_policies")
        factory = TracingContextFactory(
            client_options, service_name, package_version, package_name=package_name
        )
        self.transport = transport or client_options.transport or RequestsTransport()
        sanitizer = HttpSanitizer(
            client_options.log.allowed_query_parameters, client_options.log.allowed_headers
        )
        policies: list[HttpPolicy] = [
            *per_call,
            RequestIdPolicy(),
            TelemetryPolicy(package_name, package_version, client_options.telemetry.application_id),
            RetryPolicy(client_options.retry, sleep=sleep),
            *per_retry,
            RequestActivityPolicy(factory, sanitizer),
            LogPolicy(sanitizer),
            TransportPolicy(self.transport),
        ]
        head: NextPolicy = _End()
        for policy in reversed(policies):
            head = _Link(policy, head)
        self._head = head
        self.policies: tuple[HttpPolicy, ...] = tuple(policies)

    def send(self, request: Request, context: Optional[Context] = None) -> RawResponse:
        """Send ``request`` through every policy; ``context`` carries span, deadline, cancel."""
        return self._head.send(request, context if context is not None else Context())

    def close(self) -> None:
        """Close the transport's pooled connections."""
        self.transport.close()

    def __enter__(self) -> HttpPipeline:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
