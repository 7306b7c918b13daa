from __future__ import annotations

import pytest

from azure_core_tracing import ClientOptions, RetryOptions, TelemetryOptions
from tests.recording import RecordingTracerProvider


def test_defaults() -> None:
    options = ClientOptions()
    assert options.telemetry.application_id is None
    assert options.telemetry.tracing_provider is None
    assert options.retry.max_retries == 3
    assert options.retry.retry_delay == 0.8
    assert options.retry.max_retry_delay == 60.0
    assert options.retry.status_codes == {408, 429, 500, 502, 503, 504}
    assert options.log.allowed_query_parameters == {"api-version"}
    assert "x-ms-client-request-id" in options.log.allowed_headers
    assert "authorization" not in options.log.allowed_headers
    assert options.transport is None


def test_fields_are_mutable_as_in_the_cpp_sample() -> None:
    options = ClientOptions()
    provider = RecordingTracerProvider()
    options.telemetry.tracing_provider = provider
    options.telemetry.application_id = "MyApplication"
    assert options.telemetry.tracing_provider is provider


def test_mutable_defaults_are_not_shared_between_instances() -> None:
    a, b = ClientOptions(), ClientOptions()
    a.retry.status_codes.add(418)
    a.log.allowed_headers.add("x-custom")
    assert 418 not in b.retry.status_codes
    assert "x-custom" not in b.log.allowed_headers


@pytest.mark.parametrize(
    ("application_id", "message"),
    [
        ("a" * 25, "at most 24 characters"),
        ("has space", "white space"),
        ("tab\there", "white space"),
    ],
)
def test_bad_application_id_is_rejected_at_construction(application_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"application_id.*{message}|{message}"):
        TelemetryOptions(application_id=application_id)


def test_bad_application_id_set_later_is_rejected_where_it_is_set() -> None:
    options = ClientOptions()
    with pytest.raises(ValueError, match="application_id"):
        options.telemetry.application_id = "x" * 30


def test_application_id_of_exactly_24_characters_is_fine() -> None:
    assert TelemetryOptions(application_id="a" * 24).application_id == "a" * 24


def test_negative_retry_settings_are_rejected_naming_the_field() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryOptions(max_retries=-1)
    with pytest.raises(ValueError, match="retry_delay"):
        RetryOptions(retry_delay=-0.1)
