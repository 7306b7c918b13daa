"""``HttpPipeline``: the fixed order of policies every request of a client goes through."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Callable, Optional

from azure_core_tracing.checks import check_name, type_name
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
    if isinstance(policies, (str, bytes)) or not isinstance(policies, Iterable):
        raise TypeError(f"{argument} must be a sequence of HttpPolicy, got {type_name(policies)}")
    checked = list(policies)
    for policy in checked:
        if not isinstance(policy, HttpPolicy):
            raise TypeError(f"{argument} must hold HttpPolicy objects, got {type_name(policy)}")
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
                f"client_options must be a ClientOptions, got {type_name(client_options)}"
            )
        options = client_options.snapshot()
        check_name(package_name, "package_name")
        check_name(package_version, "package_version")
        per_call = _check_custom(per_call_policies, "per_call_policies")
        per_retry = _check_custom(per_retry_policies, "per_retry_policies")
        if transport is not None and not isinstance(transport, HttpTransport):
            raise TypeError(f"transport must be an HttpTransport, got {type_name(transport)}")
        factory = TracingContextFactory(
            options, service_name, package_version, package_name=package_name
        )
        sanitizer = HttpSanitizer(options.log.allowed_query_parameters, options.log.allowed_headers)
        user_agent = TelemetryPolicy(
            package_name, package_version, options.telemetry.application_id
        )
        retry = RetryPolicy(options.retry, sleep=sleep)
        self.transport = transport or options.transport or RequestsTransport()
        policies: list[HttpPolicy] = [
            *per_call,
            RequestIdPolicy(),
            user_agent,
            retry,
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
        """Send a copy of ``request`` through every policy (so the request itself never
        changes); ``context`` carries the operation's span, deadline and cancellation."""
        if not isinstance(request, Request):
            raise TypeError(f"request must be a Request, got {type_name(request)}")
        if context is None:
            context = Context()
        elif not isinstance(context, Context):
            raise TypeError(
                f"context must be an azure_core_tracing.Context or None, got {type_name(context)}"
            )
        return self._head.send(request.copy(), context)

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
