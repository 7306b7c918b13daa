"""The HTTP pipelines, sync on ``requests`` and async on ``aiohttp``: retry, request ids, user
agent, redirects, logging and tracing, in one fixed order (``PIPELINE_ORDER``), and the credential
policies (bearer token, key, shared access signature).

Names are imported when first used (PEP 562): a program that only sets a tracer provider, or
reads ``http.conventions``, never imports ``requests``, ``urllib3`` or the pipelines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure_core_tracing.http.activity import RequestActivityPolicy
    from azure_core_tracing.http.aiohttp_transport import AioHttpTransport
    from azure_core_tracing.http.async_pipeline import AsyncHttpPipeline
    from azure_core_tracing.http.bearer_token_policy import (
        AsyncBearerTokenCredentialPolicy,
        BearerTokenCredentialPolicy,
    )
    from azure_core_tracing.http.key_credential_policy import AzureKeyCredentialPolicy
    from azure_core_tracing.http.log import LogPolicy
    from azure_core_tracing.http.order import PIPELINE_ORDER
    from azure_core_tracing.http.pipeline import HttpPipeline
    from azure_core_tracing.http.policy import (
        AsyncHttpPolicy,
        AsyncNextPolicy,
        HttpPolicy,
        NextPolicy,
        PipelinePolicy,
        SansIOHttpPolicy,
    )
    from azure_core_tracing.http.redirect import RedirectPolicy
    from azure_core_tracing.http.redirect_hop import is_cross_origin_hop
    from azure_core_tracing.http.request import Request
    from azure_core_tracing.http.request_id import RequestIdPolicy
    from azure_core_tracing.http.requests_transport import RequestsTransport
    from azure_core_tracing.http.response import RawResponse
    from azure_core_tracing.http.retry import RetryPolicy
    from azure_core_tracing.http.sanitizer import HttpSanitizer
    from azure_core_tracing.http.sas_credential_policy import AzureSasCredentialPolicy
    from azure_core_tracing.http.telemetry import TelemetryPolicy
    from azure_core_tracing.http.transport import (
        AsyncHttpTransport,
        HttpTransport,
        TransportConnectionError,
        TransportError,
        TransportPolicy,
        TransportTimeoutError,
    )

_WHERE = {
    "AioHttpTransport": "azure_core_tracing.http.aiohttp_transport",
    "AsyncBearerTokenCredentialPolicy": "azure_core_tracing.http.bearer_token_policy",
    "AsyncHttpPipeline": "azure_core_tracing.http.async_pipeline",
    "AsyncHttpPolicy": "azure_core_tracing.http.policy",
    "AsyncHttpTransport": "azure_core_tracing.http.transport",
    "AsyncNextPolicy": "azure_core_tracing.http.policy",
    "AzureKeyCredentialPolicy": "azure_core_tracing.http.key_credential_policy",
    "AzureSasCredentialPolicy": "azure_core_tracing.http.sas_credential_policy",
    "BearerTokenCredentialPolicy": "azure_core_tracing.http.bearer_token_policy",
    "HttpPipeline": "azure_core_tracing.http.pipeline",
    "HttpPolicy": "azure_core_tracing.http.policy",
    "HttpSanitizer": "azure_core_tracing.http.sanitizer",
    "HttpTransport": "azure_core_tracing.http.transport",
    "LogPolicy": "azure_core_tracing.http.log",
    "NextPolicy": "azure_core_tracing.http.policy",
    "PIPELINE_ORDER": "azure_core_tracing.http.order",
    "PipelinePolicy": "azure_core_tracing.http.policy",
    "RawResponse": "azure_core_tracing.http.response",
    "RedirectPolicy": "azure_core_tracing.http.redirect",
    "Request": "azure_core_tracing.http.request",
    "RequestActivityPolicy": "azure_core_tracing.http.activity",
    "RequestIdPolicy": "azure_core_tracing.http.request_id",
    "RequestsTransport": "azure_core_tracing.http.requests_transport",
    "RetryPolicy": "azure_core_tracing.http.retry",
    "SansIOHttpPolicy": "azure_core_tracing.http.policy",
    "TelemetryPolicy": "azure_core_tracing.http.telemetry",
    "TransportConnectionError": "azure_core_tracing.http.transport",
    "TransportError": "azure_core_tracing.http.transport",
    "TransportPolicy": "azure_core_tracing.http.transport",
    "TransportTimeoutError": "azure_core_tracing.http.transport",
    "is_cross_origin_hop": "azure_core_tracing.http.redirect_hop",
}


def __getattr__(name: str) -> Any:
    """Import ``name`` from its module on first use, then keep it here."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "PIPELINE_ORDER",
    "AioHttpTransport",
    "AsyncBearerTokenCredentialPolicy",
    "AsyncHttpPipeline",
    "AsyncHttpPolicy",
    "AsyncHttpTransport",
    "AsyncNextPolicy",
    "AzureKeyCredentialPolicy",
    "AzureSasCredentialPolicy",
    "BearerTokenCredentialPolicy",
    "HttpPipeline",
    "HttpPolicy",
    "HttpSanitizer",
    "HttpTransport",
    "LogPolicy",
    "NextPolicy",
    "PipelinePolicy",
    "RawResponse",
    "RedirectPolicy",
    "Request",
    "RequestActivityPolicy",
    "RequestIdPolicy",
    "RequestsTransport",
    "RetryPolicy",
    "SansIOHttpPolicy",
    "TelemetryPolicy",
    "TransportConnectionError",
    "TransportError",
    "TransportPolicy",
    "TransportTimeoutError",
    "is_cross_origin_hop",
]
