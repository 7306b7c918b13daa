"""The pipeline's fixed order, written once: ``HttpPipeline`` and ``AsyncHttpPipeline`` are
both built by ``PipelineBase`` from ``build_policies``, and error messages and the README
quote ``PIPELINE_ORDER``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Callable, ClassVar, Generic, Literal, Optional, TypeVar, Union, cast

from azure_core_tracing.checks import check_name, type_name
from azure_core_tracing.context import Context, check_context
from azure_core_tracing.factory import TracingContextFactory
from azure_core_tracing.http.activity import RequestActivityPolicy
from azure_core_tracing.http.log import LogPolicy
from azure_core_tracing.http.policy import (
    AsyncHttpPolicy,
    AsyncNextPolicy,
    HttpPolicy,
    NextPolicy,
    PipelinePolicy,
    SansIOHttpPolicy,
)
from azure_core_tracing.http.redirect import RedirectPolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.request_id import RequestIdPolicy
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer, with_sanitizer
from azure_core_tracing.http.telemetry import TelemetryPolicy
from azure_core_tracing.http.transport import AsyncHttpTransport, HttpTransport, TransportPolicy
from azure_core_tracing.http.try_number import with_call_tries
from azure_core_tracing.options import ClientOptions

Kind = Literal["sync", "async"]
AnyTransport = Union[HttpTransport, AsyncHttpTransport]
TransportT = TypeVar("TransportT", HttpTransport, AsyncHttpTransport)
SleepT = TypeVar("SleepT")

_PER_CALL, _PER_RETRY = "per-call policies", "per-retry policies"
_ORDER: tuple[Union[str, type[PipelinePolicy]], ...] = (
    _PER_CALL,
    RequestIdPolicy,
    TelemetryPolicy,
    RedirectPolicy,
    RetryPolicy,
    _PER_RETRY,
    RequestActivityPolicy,
    LogPolicy,
    TransportPolicy,
)
PIPELINE_ORDER = " → ".join(step if isinstance(step, str) else step.__name__ for step in _ORDER)
"""Every request goes through the policies in this order, in both pipelines."""

_FIXED = tuple(step for step in _ORDER if not isinstance(step, str))
_CUSTOM = {"sync": (HttpPolicy, SansIOHttpPolicy), "async": (AsyncHttpPolicy, SansIOHttpPolicy)}


def _custom(policies: object, argument: str, kind: Kind) -> list[PipelinePolicy]:
    if isinstance(policies, (str, bytes)) or not isinstance(policies, Iterable):
        raise TypeError(f"{argument} must be a sequence of policies, got {type_name(policies)}")
    checked = list(policies)
    allowed = _CUSTOM[kind]
    for policy in checked:
        if isinstance(policy, _FIXED):
            raise ValueError(
                f"{argument} must not hold a {type(policy).__name__}: the pipeline places it "
                f"itself, in a fixed order: {PIPELINE_ORDER}"
            )
        if not isinstance(policy, allowed):
            raise TypeError(
                f"{argument} of an {'Async' if kind == 'async' else ''}HttpPipeline must hold "
                f"{' or '.join(cls.__name__ for cls in allowed)} objects, got {type_name(policy)}"
            )
    return checked


def _names(
    options: ClientOptions,
    package_name: Optional[str],
    package_version: Optional[str],
    service_name: Optional[str],
    tracing_factory: Optional[TracingContextFactory],
) -> tuple[TracingContextFactory, str, str]:
    """The client's factory and its package name and version, each given once."""
    if tracing_factory is None:
        check_name(package_name, "package_name")
        check_name(package_version, "package_version")
        factory = TracingContextFactory(
            options, service_name, package_version, package_name=package_name
        )
        return factory, str(package_name), str(package_version)
    if not isinstance(tracing_factory, TracingContextFactory):
        raise TypeError(
            f"tracing_factory must be a TracingContextFactory, got {type_name(tracing_factory)}"
        )
    if package_name is not None or package_version is not None or service_name is not None:
        raise ValueError(
            "pass the client's names once: either tracing_factory, or package_name, "
            "package_version and service_name"
        )
    version = tracing_factory.package_version
    if not version:
        raise ValueError("tracing_factory must have a package_version (the User-Agent shows it)")
    return tracing_factory, tracing_factory.package_name, version


def build_policies(
    kind: Kind,
    client_options: ClientOptions,
    package_name: Optional[str],
    package_version: Optional[str],
    *,
    service_name: Optional[str],
    tracing_factory: Optional[TracingContextFactory],
    per_call_policies: Sequence[PipelinePolicy],
    per_retry_policies: Sequence[PipelinePolicy],
    transport: Optional[AnyTransport],
    default_transport: Callable[[], AnyTransport],
    retry: Callable[[ClientOptions], RetryPolicy],
) -> tuple[tuple[PipelinePolicy, ...], AnyTransport, HttpSanitizer]:
    """Check a pipeline's arguments and return its policies, in ``PIPELINE_ORDER``, its
    transport (``transport``, else the options', else ``default_transport()``) and the
    client's one sanitizer, which its policies use and each call carries to the transport."""
    if not isinstance(client_options, ClientOptions):
        raise TypeError(f"client_options must be a ClientOptions, got {type_name(client_options)}")
    options = client_options.snapshot()
    factory, name, version = _names(
        options, package_name, package_version, service_name, tracing_factory
    )
    per_call = _custom(per_call_policies, "per_call_policies", kind)
    per_retry = _custom(per_retry_policies, "per_retry_policies", kind)
    expected = HttpTransport if kind == "sync" else AsyncHttpTransport
    for argument, given in (
        ("transport", transport),
        ("client_options.transport", options.transport),
    ):
        if given is not None and not isinstance(given, expected):
            raise TypeError(
                f"{argument} must be an {expected.__name__} for an "
                f"{'Async' if kind == 'async' else ''}HttpPipeline, got {type_name(given)}"
            )
    sanitizer = HttpSanitizer(options.log.allowed_query_parameters, options.log.allowed_headers)
    chosen = transport or options.transport or default_transport()
    stages: dict[Union[str, type[PipelinePolicy]], Callable[[], list[PipelinePolicy]]] = {
        _PER_CALL: lambda: per_call,
        RequestIdPolicy: lambda: [RequestIdPolicy()],
        TelemetryPolicy: lambda: [TelemetryPolicy(name, version, options.telemetry.application_id)],
        RedirectPolicy: lambda: [RedirectPolicy(options.redirect)],
        RetryPolicy: lambda: [retry(options)],
        _PER_RETRY: lambda: per_retry,
        RequestActivityPolicy: lambda: [RequestActivityPolicy(factory, sanitizer)],
        LogPolicy: lambda: [LogPolicy(sanitizer)],
        TransportPolicy: lambda: [TransportPolicy(chosen)],
    }
    return tuple(policy for step in _ORDER for policy in stages[step]()), chosen, sanitizer


_ROOT = Context()  # the parent of a call's context when the caller passes none; never handed out


def check_send(
    request: object, context: object, sanitizer: HttpSanitizer
) -> tuple[Request, Context]:
    """A copy of ``request`` to send (so the caller's never changes; its body from where it
    started) and the call's context, which carries the client's ``sanitizer`` (a transport
    shared by clients redacts by the rules of the one calling) and the call's try counter
    (every request the call sends has its own number)."""
    if not isinstance(request, Request):
        raise TypeError(f"request must be a Request, got {type_name(request)}")
    return request.for_send(), with_call_tries(
        with_sanitizer(check_context(context, optional=True) or _ROOT, sanitizer)
    )


_UNREACHED = "the transport policy is the last policy and calls no further"


class _End(NextPolicy):
    def send(self, request: Request, context: Context) -> RawResponse:
        raise RuntimeError(_UNREACHED)


class _AsyncEnd(AsyncNextPolicy):
    async def send(self, request: Request, context: Context) -> RawResponse:
        raise RuntimeError(_UNREACHED)


def chain(policies: Sequence[PipelinePolicy]) -> NextPolicy:
    """The head of a sync pipeline made of ``policies``, in order."""
    head: NextPolicy = _End()
    for policy in reversed(policies):
        head = policy.chain(head)
    return head


def chain_async(policies: Sequence[PipelinePolicy]) -> AsyncNextPolicy:
    """The head of an async pipeline made of ``policies``, in order."""
    head: AsyncNextPolicy = _AsyncEnd()
    for policy in reversed(policies):
        head = policy.chain_async(head)
    return head


class PipelineBase(Generic[TransportT, SleepT]):
    """What both pipelines are built from, with one constructor: the client's options and
    names (its ``tracing_factory``, or ``package_name``, ``package_version`` and
    ``service_name``: given once), custom policies, a transport of the pipeline's kind, and
    what the retry policy waits with (``sleep``; tests pass a recorder)."""

    _kind: ClassVar[Kind]

    def __init__(
        self,
        client_options: ClientOptions,
        package_name: Optional[str] = None,
        package_version: Optional[str] = None,
        *,
        service_name: Optional[str] = None,
        tracing_factory: Optional[TracingContextFactory] = None,
        per_call_policies: Sequence[PipelinePolicy] = (),
        per_retry_policies: Sequence[PipelinePolicy] = (),
        transport: Optional[TransportT] = None,
        sleep: Optional[SleepT] = None,
    ) -> None:
        policies, chosen, self._sanitizer = build_policies(
            self._kind,
            client_options,
            package_name,
            package_version,
            service_name=service_name,
            tracing_factory=tracing_factory,
            per_call_policies=per_call_policies,
            per_retry_policies=per_retry_policies,
            transport=transport,
            default_transport=self._default_transport,
            retry=lambda options: self._retry_policy(options, sleep),
        )
        self.transport: TransportT = cast(TransportT, chosen)  # build_policies checked its kind
        """The transport the pipeline sends with."""
        self.policies = policies
        """The policies, in ``PIPELINE_ORDER``."""
        self._link(policies)

    def _default_transport(self) -> TransportT:
        raise NotImplementedError

    def _retry_policy(self, options: ClientOptions, sleep: Optional[SleepT]) -> RetryPolicy:
        raise NotImplementedError

    def _link(self, policies: tuple[PipelinePolicy, ...]) -> None:
        raise NotImplementedError
