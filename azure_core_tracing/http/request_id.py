"""``RequestIdPolicy``: gives every request an ``x-ms-client-request-id``."""

from __future__ import annotations

import uuid
from typing import Optional

from azure_core_tracing.context import Context
from azure_core_tracing.headers import CLIENT_REQUEST_ID
from azure_core_tracing.http.policy import SansIOHttpPolicy
from azure_core_tracing.http.request import Request


class RequestIdPolicy(SansIOHttpPolicy):
    """Sets ``x-ms-client-request-id`` to a new UUID4 unless the caller set one.

    It runs before the retry policy, so every retry carries the same id."""

    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        if CLIENT_REQUEST_ID not in request.headers:
            request.headers[CLIENT_REQUEST_ID] = str(uuid.uuid4())
        return None
