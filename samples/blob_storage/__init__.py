"""A small Azure Blob Storage client on azure_core_tracing, sync and async, as an SDK author
would write one: every public method traced, errors carrying Storage's error code, and each
try authenticated by Shared Key (an ``AzureNamedKeyCredential``) or a shared access
signature (an ``AzureSasCredential``).

Run ``python -m samples.blob_storage --help``.
"""

from ._models import BlobProperties
from ._protocol import API_VERSION
from ._sas import generate_account_sas
from ._shared_key import SharedKeyCredentialPolicy, string_to_sign
from .aio import AsyncBlobStorageClient
from .client import BlobStorageClient

__all__ = [
    "API_VERSION",
    "AsyncBlobStorageClient",
    "BlobProperties",
    "BlobStorageClient",
    "SharedKeyCredentialPolicy",
    "generate_account_sas",
    "string_to_sign",
]
