"""``TelemetryPolicy``: the Azure SDK ``User-Agent`` header."""

from __future__ import annotations

import platform
from typing import Optional

from azure_core_tracing.checks import check_header, check_name
from azure_core_tracing.context import Context
from azure_core_tracing.headers import USER_AGENT
from azure_core_tracing.http.policy import SansIOHttpPolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.options import check_application_id


def build_user_agent(
    package_name: str, package_version: str, application_id: Optional[str] = None
) -> str:
    """``[<application_id> ]azsdk-python-<package>/<version> Python/<x.y.z> (<platform>)``."""
    check_name(package_name, "package_name")
    check_name(package_version, "package_version")
    check_application_id(application_id)
    agent = (
        f"azsdk-python-{package_name}/{package_version} "
        f"Python/{platform.python_version()} ({platform.platform()})"
    )
    agent = f"{application_id} {agent}" if application_id else agent
    check_header(USER_AGENT, agent)
    return agent


class TelemetryPolicy(SansIOHttpPolicy):
    """Sets ``User-Agent``; a value the caller set is kept after the SDK's own.

    Idempotent: a request sent again through the pipeline (by a policy before this one that
    re-sends, as a redirect or re-authentication does) keeps one copy of the SDK's string."""

    def __init__(
        self, package_name: str, package_version: str, application_id: Optional[str] = None
    ) -> None:
        self.user_agent = build_user_agent(package_name, package_version, application_id)

    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        ours = self.user_agent
        callers = request.headers.get(USER_AGENT)
        if not callers:
            request.headers[USER_AGENT] = ours
        elif callers != ours and not callers.startswith(f"{ours} "):
            request.headers[USER_AGENT] = f"{ours} {callers}"
        return None
