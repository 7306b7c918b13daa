"""Shared fixtures: the in-memory recording provider and a clean application context."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from azure_core_tracing import Context
from tests.local_server import LocalServer
from tests.otlp_receiver import OtlpReceiver
from tests.recording import RecordingTracerProvider

# CI runs the same examples every time (a red run means a regression, not a lucky draw);
# HYPOTHESIS_PROFILE=explore draws new ones, many more, to hunt for what CI never tried.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=150)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=3000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _clean_application_provider() -> Iterator[None]:
    """Every test starts and ends with no application-wide tracer provider."""
    Context.application_context.set_tracer_provider(None)
    yield
    Context.application_context.set_tracer_provider(None)


@pytest.fixture
def recorder() -> RecordingTracerProvider:
    return RecordingTracerProvider()


@pytest.fixture
def app_recorder(recorder: RecordingTracerProvider) -> RecordingTracerProvider:
    """A recording provider set as the application-wide provider."""
    Context.application_context.set_tracer_provider(recorder)
    return recorder


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1, for the duration of one test."""
    with LocalServer() as local:
        yield local


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP receiver on 127.0.0.1 that decodes the protobuf it is sent."""
    with OtlpReceiver() as receiver:
        yield receiver
