"""Failures inside tracing are reported once, name their owner, and keep nothing alive."""

from __future__ import annotations

import gc
import logging
import weakref

import pytest

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.failures import report_tracing_failure
from tests.hostile import HostileProvider
from tests.recording import RecordingTracerProvider


def test_providers_that_failed_are_not_kept_alive(caplog: pytest.LogCaptureFixture) -> None:
    refs = []
    with caplog.at_level(logging.CRITICAL, logger="azure_core_tracing"):
        for _ in range(2_000):
            provider = HostileProvider("create_span raises")
            Context.application_context.set_tracer_provider(provider)
            TracingContextFactory(ClientOptions(), "Svc", "1.0").create_span("Op")
            refs.append(weakref.ref(provider))
    Context.application_context.set_tracer_provider(None)
    del provider
    gc.collect()
    assert sum(ref() is not None for ref in refs) == 0


def test_a_factory_keeps_at_most_one_application_provider_alive() -> None:
    factory = TracingContextFactory(ClientOptions(), "Svc", "1.0")
    refs = []
    for _ in range(2_000):
        provider = RecordingTracerProvider()
        Context.application_context.set_tracer_provider(provider)
        factory.create_span("Op").span.end()
        refs.append(weakref.ref(provider))
    Context.application_context.set_tracer_provider(None)
    del provider
    gc.collect()
    assert sum(ref() is not None for ref in refs) <= 1
    assert factory.is_tracing_enabled is False


def test_a_new_provider_at_the_same_address_is_reported_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        for _ in range(3):
            report_tracing_failure(RecordingTracerProvider(), "end", RuntimeError())
    assert len(caplog.records) == 3  # each provider is new, even where an id is reused


def test_an_owner_without_weak_references_is_reported_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner = ("a", "tuple")  # tuples cannot be weakly referenced
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        for _ in range(3):
            report_tracing_failure(owner, "create_span", "it returned NoneType, not a Span")
    assert len(caplog.records) == 1
    assert "create_span of builtins.tuple (it returned NoneType, not a Span)" in caplog.text


def test_a_client_class_without_factory_is_named_by_its_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class WidgetClient:
        @distributed_trace
        def get(self) -> int:
            return 1

    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        assert WidgetClient().get() == 1
    (record,) = caplog.records
    assert "of tests.test_failures.test_a_client_class_without_factory" in record.getMessage()
    assert "WidgetClient" in record.getMessage()
    assert " of builtins.type " not in record.getMessage()
