"""The errors a service client raises, in azure-core's shapes: ``AzureError`` is the root of
every service and transport error, with the original failure as ``inner_exception``.

Bad arguments stay ``TypeError`` and ``ValueError``, and ``OperationCancelledError`` (in
``context``) stays as it is.
"""

from __future__ import annotations

from typing import Any, Optional


class AzureError(Exception):
    """The base of every service and transport error; ``message`` is its text, and
    ``inner_exception`` the failure it stands for (the ``error`` keyword), if any."""

    def __init__(self, message: object = None, *args: Any, **kwargs: Any) -> None:
        self.inner_exception: Optional[BaseException] = kwargs.get("error")
        self.message = "" if message is None else str(message)
        super().__init__(self.message, *args)


class ServiceRequestError(AzureError):
    """The request never reached the service: connecting, resolving the name or TLS failed."""


class ServiceRequestTimeoutError(ServiceRequestError):
    """Connecting to the service took longer than the timeout (or the context's deadline)."""


class ServiceResponseError(AzureError):
    """The request was sent, then reading the response failed."""


class ServiceResponseTimeoutError(ServiceResponseError):
    """Reading the response took longer than the timeout (or the context's deadline)."""


class HttpResponseError(AzureError):
    """The service answered with a status the call does not take as success."""

    def __init__(
        self, message: object = None, response: Optional[Any] = None, **kwargs: Any
    ) -> None:
        self.response = response
        self.status_code: Optional[int] = getattr(response, "status_code", None)
        self.reason: Optional[str] = getattr(response, "reason", None)
        self.error_code: Optional[str] = kwargs.pop("error_code", None)
        if message is None:
            message = f"Operation returned an invalid status {self.status_code} ({self.reason})"
        super().__init__(message, **kwargs)


class ClientAuthenticationError(HttpResponseError):
    """Authentication failed: a 401 or 403 by mapping, or a credential that raised."""


class ResourceNotFoundError(HttpResponseError):
    """The resource does not exist (404)."""


class ResourceExistsError(HttpResponseError):
    """The resource exists already (409)."""


class ResourceModifiedError(HttpResponseError):
    """A precondition on the resource failed (412)."""


class ResourceNotModifiedError(HttpResponseError):
    """The resource was not modified (304)."""


class TooManyRedirectsError(AzureError):
    """The call was redirected more times than ``ClientOptions.redirect.max_redirects``."""
