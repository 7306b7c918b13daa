"""A small traced service client over the real pipeline, as an SDK author would write it."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from azure_core_tracing import ClientOptions, Context, TracingContextFactory
from azure_core_tracing.http import HttpPipeline, RawResponse, Request

SERVICE = "Azure.Test.Service"


class TracedClient:
    """Traces ``call`` as one service method span, whose requests go through the pipeline."""

    def __init__(self, options: Optional[ClientOptions] = None, **pipeline_args: Any) -> None:
        self.options = options or ClientOptions()
        self.sleeps: list[float] = []
        pipeline_args.setdefault("sleep", self.sleeps.append)
        self._tracing_factory = TracingContextFactory(
            self.options, SERVICE, "1.0.0", package_name="azure-test"
        )
        self.pipeline = HttpPipeline(
            self.options, "azure-test", "1.0.0", service_name=SERVICE, **pipeline_args
        )

    def call(self, request: Request, context: Optional[Context] = None) -> RawResponse:
        with self._tracing_factory.create_span("TracedClient.call", context) as scope:
            return self.pipeline.send(request, scope.context)


@pytest.fixture
def fast_options() -> ClientOptions:
    options = ClientOptions()
    options.retry.retry_delay = 0.001
    options.retry.max_retry_delay = 0.01
    return options
