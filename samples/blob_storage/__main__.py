"""Run the Blob Storage sample client against Azurite, and print each call's span tree.

It creates a container, uploads blobs and lists them two to a page (three pages, one API
span each, under one application span) with Shared Key, reads one with an account SAS, shows
two errors with Storage's codes, and deletes the container.

Without --endpoint it starts Azurite itself, as the tests do (tests/azurite.py: the pinned
npm package, installed into a cache folder on first use; it needs node and npm).

Run: ``python -m samples.blob_storage [--endpoint http://127.0.0.1:10000/devstoreaccount1]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Optional

from azure_core_tracing import AzureNamedKeyCredential, AzureSasCredential, ClientOptions
from azure_core_tracing.exceptions import HttpResponseError

from . import BlobStorageClient, generate_account_sas

PROG = "python -m samples.blob_storage"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--endpoint",
        help="an Azurite (or storage account) Blob endpoint; default: start Azurite here",
    )
    parser.add_argument(
        "--account-name", help="default: Azurite's development account, devstoreaccount1"
    )
    parser.add_argument(
        "--account-key",
        default=os.environ.get("AZURE_STORAGE_KEY"),
        help="default: $AZURE_STORAGE_KEY, else the development account's key (a key given "
        "here is visible to other users of the machine: prefer the variable)",
    )
    parser.add_argument("--container", default="sample-container", help="created, then deleted")
    return parser


@contextlib.contextmanager
def _endpoint(given: Optional[str]) -> Iterator[str]:
    if given:
        yield given
        return
    from tests.azurite import Azurite, install, missing_tools

    missing = missing_tools()
    if missing:
        raise SystemExit(f"{PROG}: give --endpoint, or install {' and '.join(missing)}")
    print("starting Azurite (installed on first use)...")
    with Azurite.start(install()) as azurite:
        yield azurite.blob_endpoint


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from azure_core_tracing_opentelemetry import ConsoleTreeExporter, OpenTelemetryProvider
    from tests.azurite import ACCOUNT_KEY, ACCOUNT_NAME

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter()))
    options = ClientOptions()
    options.telemetry.tracing_provider = OpenTelemetryProvider.create(tracer_provider)
    credential = AzureNamedKeyCredential(
        args.account_name or ACCOUNT_NAME, args.account_key or ACCOUNT_KEY
    )
    container = args.container
    with (
        _endpoint(args.endpoint) as endpoint,
        BlobStorageClient(endpoint, credential, options=options) as client,
    ):
        print(f"Blob endpoint: {endpoint}\n")
        client.create_container(container)
        for number in range(5):
            client.upload_blob(container, f"notes/{number}.txt", f"note {number}".encode())
        print("\nlist_blobs, two to a page, inside an application span:")
        with tracer_provider.get_tracer("blob-storage-sample").start_as_current_span("list notes"):
            listed = [blob.name for blob in client.list_blobs(container, results_per_page=2)]
        print(f"listed: {listed}")
        properties = client.get_blob_properties(container, "notes/1.txt")
        print(f"\nnotes/1.txt: {properties.size} bytes, ETag {properties.etag}\n")
        sas = generate_account_sas(
            credential, permissions="rl", expiry=datetime.now(timezone.utc) + timedelta(hours=1)
        )
        with BlobStorageClient(endpoint, AzureSasCredential(sas), options=options) as reader:
            print(f"read with a SAS: {reader.download_blob(container, 'notes/2.txt')!r}\n")
        for call in (
            lambda: client.download_blob(container, "missing.txt"),
            lambda: client.create_container(container),
        ):
            try:
                call()
            except HttpResponseError as error:
                print(f"{type(error).__name__}: {error.error_code} ({error.status_code})\n")
        client.delete_container(container)
    tracer_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
