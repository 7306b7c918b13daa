from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone

import pytest

from azure_core_tracing_opentelemetry.diagnostics import ProvisioningReport
from azure_core_tracing_opentelemetry.diagnostics.report import PPS_TYPES

AT = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
VM = "0a1b2c3d-0000-4000-8000-00000000abcd"


def at(report: ProvisioningReport) -> ProvisioningReport:
    return dataclasses.replace(report, timestamp=AT)


def test_success_encoding() -> None:
    report = at(ProvisioningReport.success("MyAgent/1.2", VM))
    assert report.encode() == (
        f"result=success|agent=MyAgent/1.2|pps_type=None|vm_id={VM}"
        "|timestamp=2024-05-01T12:00:00.123456+00:00"
    )


def test_success_extra_fields_follow_in_the_order_given() -> None:
    report = at(ProvisioningReport.success("A", VM, zeta="1", alpha=2, flag=True, ratio=0.5))
    assert report.encode().endswith(
        "|timestamp=2024-05-01T12:00:00.123456+00:00|zeta=1|alpha=2|flag=True|ratio=0.5"
    )


def test_error_encoding_puts_extras_after_the_agent_and_no_documentation_url_unless_given() -> None:
    report = at(ProvisioningReport.error("ssh key rejected", "A/1", VM, step="ssh", tries=3))
    assert report.encode() == (
        "result=error|reason=ssh key rejected|agent=A/1|step=ssh|tries=3|pps_type=None"
        f"|vm_id={VM}|timestamp=2024-05-01T12:00:00.123456+00:00"
    )


def test_a_documentation_url_given_is_the_last_field_with_its_query_values_redacted() -> None:
    report = at(
        ProvisioningReport.error(
            "no network",
            "A/1",
            VM,
            documentation_url="https://user:pw@aka.ms/linuxprovisioningerror?sig=secret#f",
            step="dhcp",
        )
    )
    assert report.encode() == (
        "result=error|reason=no network|agent=A/1|step=dhcp|pps_type=None"
        f"|vm_id={VM}|timestamp=2024-05-01T12:00:00.123456+00:00"
        "|documentation_url=https://aka.ms/linuxprovisioningerror?sig=REDACTED"
    )
    assert "secret" not in repr(report) and "pw" not in repr(report)


@pytest.mark.parametrize("pps_type", PPS_TYPES)
def test_pps_type_takes_azure_inits_wire_strings(pps_type: str) -> None:
    success = at(ProvisioningReport.success("A", VM, pps_type=pps_type))
    assert success.encode().split("|")[2] == f"pps_type={pps_type}"
    error = at(ProvisioningReport.error("r", "A", VM, pps_type=pps_type, step="x"))
    assert error.encode().split("|")[4] == f"pps_type={pps_type}"


@pytest.mark.parametrize("pps_type", ["none", "OsDisk", "", None, 1, "Running "])
def test_any_other_pps_type_is_a_value_error(pps_type: object) -> None:
    with pytest.raises(ValueError, match="pps_type must be one of None, PreprovisionedOSDisk"):
        ProvisioningReport.success("A", VM, pps_type=pps_type)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pps_type"):
        ProvisioningReport.error("r", "A", VM, pps_type=pps_type)  # type: ignore[arg-type]


def test_a_report_over_1022_bytes_is_a_value_error_and_one_of_1022_is_not() -> None:
    head = len(at(ProvisioningReport.success("", VM)).encode())
    fits = at(
        ProvisioningReport.success("é" * ((1022 - head) // 2) + "a" * ((1022 - head) % 2), VM)
    )
    assert len(fits.encode().encode()) == 1022
    with pytest.raises(ValueError, match="1023 UTF-8 bytes, more than the 1022"):
        at(
            ProvisioningReport.success(
                "é" * ((1022 - head) // 2) + "a" * ((1022 - head) % 2 + 1), VM
            )
        )
    with pytest.raises(ValueError, match="more than the 1022"):
        ProvisioningReport.error("r", "A", VM, note="x" * 1000)
    with pytest.raises(ValueError, match="more than the 1022"):
        ProvisioningReport.error("r", "A", VM, documentation_url="https://aka.ms/" + "x" * 1000)
    # A longer timestamp (replace() checks again) can push a report over too.
    assert len(dataclasses.replace(fits, timestamp=AT.replace(microsecond=0)).encode()) < 1022


@pytest.mark.parametrize(
    ("reason", "field"),
    [
        ("a|b", '"reason=a|b"'),
        ('say "hi"', '"reason=say ""hi"""'),
        ("line\nbreak", '"reason=line\nbreak"'),
        ("carriage\rreturn", '"reason=carriage\rreturn"'),
        ("plain, with = and ;", "reason=plain, with = and ;"),
    ],
)
def test_a_field_with_a_pipe_quote_cr_or_lf_is_quoted(reason: str, field: str) -> None:
    encoded = at(ProvisioningReport.error(reason, "A", VM)).encode()
    assert encoded.split("|agent=")[0] == f"result=error|{field}"


def test_extra_values_and_the_agent_are_quoted_too() -> None:
    encoded = at(ProvisioningReport.success('A"1', VM, note="x|y")).encode()
    assert encoded.startswith('result=success|"agent=A""1"|pps_type=None|')
    assert encoded.endswith('|"note=x|y"')


def test_the_timestamp_is_now_in_utc_rfc3339() -> None:
    before = datetime.now(timezone.utc)
    report = ProvisioningReport.success("A", VM)
    assert before <= report.timestamp <= datetime.now(timezone.utc)
    stamp = re.search(r"timestamp=([^|]+)", report.encode())
    assert stamp is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?\+00:00", stamp.group(1))


@pytest.mark.parametrize(
    ("microsecond", "written"),
    [(0, "12:00:00+00:00"), (123000, "12:00:00.123+00:00"), (123456, "12:00:00.123456+00:00")],
)
def test_the_timestamp_has_the_fraction_digits_chrono_writes(
    microsecond: int, written: str
) -> None:
    """chrono's ``to_rfc3339`` (azure-init's timestamp): no fraction, 3 or 6 digits as needed."""
    report = dataclasses.replace(
        at(ProvisioningReport.success("A", VM)), timestamp=AT.replace(microsecond=microsecond)
    )
    assert f"|timestamp=2024-05-01T{written}|" in report.encode() + "|"


def test_a_timestamp_in_another_zone_is_written_in_utc() -> None:
    other = datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    report = dataclasses.replace(ProvisioningReport.success("A", VM), timestamp=other)
    assert "timestamp=2024-05-01T12:00:00+00:00" in report.encode()
    assert str(report) == report.encode()


def test_bad_arguments_are_rejected_early() -> None:
    with pytest.raises(TypeError, match="agent must be a str"):
        ProvisioningReport.success(1, VM)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reason must be a str"):
        ProvisioningReport.error(None, "A", VM)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'timestamp' is reserved"):
        ProvisioningReport.success("A", VM, timestamp="now")
    with pytest.raises(ValueError, match="reserved or holds"):
        ProvisioningReport.success("A", VM, **{"a=b": "c"})
    with pytest.raises(TypeError, match="extra field 'blob' must be"):
        ProvisioningReport.success("A", VM, blob=b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        ProvisioningReport("success", "A", VM, datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="needs a reason"):
        ProvisioningReport("error", "A", VM, AT)
    with pytest.raises(ValueError, match="'success' or 'error'"):
        ProvisioningReport("maybe", "A", VM, AT)
    with pytest.raises(TypeError, match="documentation_url must be a str"):
        ProvisioningReport.error("r", "A", VM, documentation_url=b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only an error report has a documentation_url"):
        ProvisioningReport("success", "A", VM, AT, documentation_url="https://aka.ms/x")
