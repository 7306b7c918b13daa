"""Shared fixtures: the in-memory recording provider, a clean application context, and
Azurite (the Azure Storage emulator) for the session.

The Azurite tests skip only when ``node`` or ``npm`` is missing, and fail instead when
``AZURE_CORE_TRACING_REQUIRE_AZURITE=1`` (as ``.ci/run`` sets it), so CI never passes
without them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest
from hypothesis import settings

from azure_core_tracing import Context
from tests.azurite import REQUIRE_ENV, Azurite, AzuriteError, install, missing_tools
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


def unavailable(reason: str) -> NoReturn:
    """Skip the Azurite tests for ``reason``, or fail them when ``REQUIRE_ENV`` is 1."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires the Azurite tests", pytrace=False)
    pytest.skip(reason)


def start_azurite() -> Azurite:
    """Azurite started (installed first when missing), or the test skipped (failed when
    required) when node or npm is not on PATH. A failure to install or start is a failure."""
    missing = missing_tools()
    if missing:
        unavailable(f"Azurite needs {' and '.join(missing)}, which is not on PATH")
    try:
        return Azurite.start(install())
    except AzuriteError as error:  # node and npm are there: this is a failure, not a skip
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """Azurite's Blob service on 127.0.0.1, for the whole session; installed when missing."""
    with start_azurite() as emulator:
        yield emulator
