from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from azure_core_tracing import Context, NoOpTracerProvider, OperationCancelledError


def test_with_value_returns_a_new_context_and_leaves_the_parent_unchanged() -> None:
    root = Context()
    child = root.with_value("k", 1)
    assert child is not root
    assert child.get_value("k") == 1
    assert root.get_value("k") is None
    assert root.get_value("k", "dflt") == "dflt"


def test_nearest_value_wins_and_keys_compare_by_equality() -> None:
    ctx = Context().with_value(("a", 1), "outer").with_value("other", 0)
    ctx = ctx.with_value(("a", 1), "inner")
    assert ctx.get_value(("a", 1)) == "inner"
    assert ctx.get_value("other") == 0


def test_keys_compare_by_identity_too() -> None:
    key = object()
    ctx = Context().with_value(key, "v")
    assert ctx.get_value(key) == "v"
    assert ctx.get_value(object()) is None


def test_none_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="key"):
        Context().with_value(None, 1)


def test_deadline_is_the_earliest_on_the_chain() -> None:
    now = datetime.now(timezone.utc)
    early, late = now + timedelta(hours=1), now + timedelta(hours=2)
    assert Context().deadline is None
    assert Context().with_deadline(early).with_deadline(late).deadline == early
    assert Context().with_deadline(late).with_deadline(early).deadline == early
    assert Context().with_deadline(early).with_value("k", 1).deadline == early


def test_a_deadline_in_the_past_cancels() -> None:
    ctx = Context().with_deadline(datetime.now(timezone.utc) - timedelta(seconds=1))
    assert ctx.is_cancelled()
    with pytest.raises(OperationCancelledError):
        ctx.throw_if_cancelled()


def test_a_deadline_in_the_future_does_not_cancel() -> None:
    ctx = Context().with_deadline(datetime.now(timezone.utc) + timedelta(minutes=5))
    assert not ctx.is_cancelled()
    ctx.throw_if_cancelled()


def test_deadline_must_be_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="deadline must be timezone-aware"):
        Context().with_deadline(datetime.now())
    with pytest.raises(TypeError, match="deadline must be a datetime"):
        Context().with_deadline(5)  # type: ignore[arg-type]


def test_cancel_on_a_child_leaves_the_parent_alive() -> None:
    parent = Context()
    child = parent.with_value("k", 1)
    grandchild = child.with_value("j", 2)
    child.cancel()
    assert child.is_cancelled()
    assert grandchild.is_cancelled()
    assert not parent.is_cancelled()
    with pytest.raises(OperationCancelledError):
        grandchild.throw_if_cancelled()


def test_cancelling_the_parent_cancels_contexts_made_earlier_from_it() -> None:
    parent = Context()
    child = parent.with_deadline(datetime.now(timezone.utc) + timedelta(hours=1))
    parent.cancel()
    assert child.is_cancelled()


def test_application_context_holds_the_tracer_provider() -> None:
    provider = NoOpTracerProvider()
    Context.application_context.set_tracer_provider(provider)
    assert Context.application_context.get_tracer_provider() is provider
    assert Context().get_tracer_provider() is provider
    Context.application_context.set_tracer_provider(None)
    assert Context.application_context.get_tracer_provider() is None


def test_set_tracer_provider_on_another_context_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="application_context"):
        Context().set_tracer_provider(NoOpTracerProvider())
    with pytest.raises(TypeError, match="application_context"):
        Context.application_context.with_value("k", 1).set_tracer_provider(None)


def test_set_tracer_provider_rejects_what_is_not_a_provider() -> None:
    with pytest.raises(TypeError, match="provider must be"):
        Context.application_context.set_tracer_provider(object())  # type: ignore[arg-type]
