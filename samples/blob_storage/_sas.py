"""Account shared access signatures, made from the account key as Azure Storage defines them
("Create an account SAS", service version 2020-12-06 and later)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional
from urllib.parse import quote

from azure_core_tracing import AzureNamedKeyCredential

from ._shared_key import sign


def _utc(moment: datetime, argument: str) -> str:
    if not isinstance(moment, datetime):
        raise TypeError(f"{argument} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None:
        raise ValueError(f"{argument} must be timezone-aware (UTC is what the service reads)")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate_account_sas(
    credential: AzureNamedKeyCredential,
    *,
    permissions: str,
    expiry: datetime,
    start: Optional[datetime] = None,
    services: str = "b",
    resource_types: str = "sco",
    protocol: Optional[str] = None,
    version: str = "2025-01-05",
) -> str:
    """An account SAS token (``sv=...&sig=...``, no leading ``?``) granting ``permissions``
    (``"rwdlac"``: read, write, delete, list, add, create) on ``services`` (``b``: Blob) for
    ``resource_types`` (``s`` service, ``c`` container, ``o`` object) until ``expiry``.

    Give it to ``AzureSasCredential``: the token is a secret, as the key it is signed with."""
    for argument, value in (
        ("permissions", permissions),
        ("services", services),
        ("resource_types", resource_types),
    ):
        if not isinstance(value, str) or not value.isalpha():
            raise ValueError(f"{argument} must be letters such as 'rl', got {value!r}")
    account_name, account_key = credential.named_key
    fields = {
        "sv": version,
        "ss": services,
        "srt": resource_types,
        "sp": permissions,
        "st": "" if start is None else _utc(start, "start"),
        "se": _utc(expiry, "expiry"),
        "spr": protocol or "",
    }
    text = "\n".join(
        [
            account_name,
            fields["sp"],
            fields["ss"],
            fields["srt"],
            fields["st"],
            fields["se"],
            "",  # signed IP range: none
            fields["spr"],
            fields["sv"],
            "",  # signed encryption scope: none
            "",  # the string ends with a newline
        ]
    )
    fields["sig"] = sign(account_key, text)
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in fields.items() if value)
