"""Every operation of the Blob Storage sample client against the real Azurite, sync and
async, and each failure as the ``HttpResponseError`` subclass carrying Storage's own code."""

from __future__ import annotations

import pytest

from azure_core_tracing.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from tests.storage.conftest import Blob, unique_container


def test_a_container_is_created_and_deleted(blob: Blob) -> None:
    name = unique_container()
    blob.create_container(name)
    blob.upload_blob(name, "a.txt", b"a")  # it is there: a blob can go in it
    blob.delete_container(name)
    with pytest.raises(ResourceNotFoundError) as raised:
        blob.upload_blob(name, "a.txt", b"a")
    assert raised.value.error_code == "ContainerNotFound"


def test_a_blob_is_uploaded_read_and_deleted(blob: Blob, container: str) -> None:
    data = bytes(range(256)) * 41  # every byte value, not a multiple of any chunk size
    etag = blob.upload_blob(container, "dir/data.bin", data)
    assert etag.startswith('"') and etag.endswith('"')
    assert blob.download_blob(container, "dir/data.bin") == data
    blob.delete_blob(container, "dir/data.bin")
    with pytest.raises(ResourceNotFoundError) as raised:
        blob.download_blob(container, "dir/data.bin")
    assert raised.value.error_code == "BlobNotFound"


def test_an_empty_blob_round_trips(blob: Blob, container: str) -> None:
    blob.upload_blob(container, "empty", b"")
    assert blob.download_blob(container, "empty") == b""
    assert blob.get_blob_properties(container, "empty").size == 0


@pytest.mark.parametrize(
    "name",
    [
        "plain.txt",
        "a/b/c.txt",
        "with space.txt",
        "plus+and%percent",
        "üñí©ødé.txt",
        "q?#&=.txt",
        "(!$'*,;:@).txt",
    ],
)
def test_blob_names_that_need_escaping_are_signed_and_found(
    blob: Blob, container: str, name: str
) -> None:
    blob.upload_blob(container, name, name.encode())
    assert blob.download_blob(container, name) == name.encode()
    assert blob.get_blob_properties(container, name).name == name


def test_the_properties_are_the_blobs(blob: Blob, container: str) -> None:
    etag = blob.upload_blob(container, "p.json", b'{"a": 1}', content_type="application/json")
    properties = blob.get_blob_properties(container, "p.json")
    assert (properties.name, properties.container) == ("p.json", container)
    assert properties.size == 8
    assert properties.etag == etag
    assert properties.content_type == "application/json"
    assert properties.last_modified.endswith(" GMT")


def test_an_upload_replaces_the_blob_and_changes_its_etag(blob: Blob, container: str) -> None:
    first = blob.upload_blob(container, "b", b"one")
    second = blob.upload_blob(container, "b", b"two!")
    assert first != second
    assert blob.download_blob(container, "b") == b"two!"


def test_a_second_container_of_the_name_is_container_already_exists(
    blob: Blob, container: str
) -> None:
    with pytest.raises(ResourceExistsError) as raised:
        blob.create_container(container)
    error = raised.value
    assert (error.status_code, error.error_code) == (409, "ContainerAlreadyExists")
    assert "(ContainerAlreadyExists) The specified container already exists." in str(error)


def test_no_overwrite_of_an_existing_blob_is_blob_already_exists(
    blob: Blob, container: str
) -> None:
    blob.upload_blob(container, "b", b"one")
    with pytest.raises(ResourceExistsError) as raised:
        blob.upload_blob(container, "b", b"two", overwrite=False)
    assert raised.value.error_code == "BlobAlreadyExists"
    assert blob.download_blob(container, "b") == b"one"


@pytest.mark.parametrize(
    "operation",
    ["delete_container", "download_blob", "get_blob_properties", "delete_blob", "upload_blob"],
)
def test_every_operation_on_a_missing_container_is_container_not_found(
    blob: Blob, operation: str
) -> None:
    missing = unique_container()
    arguments = {
        "delete_container": (missing,),
        "upload_blob": (missing, "b", b"x"),
    }.get(operation, (missing, "b"))
    with pytest.raises(ResourceNotFoundError) as raised:
        getattr(blob, operation)(*arguments)
    assert raised.value.status_code == 404
    # A HEAD has no body: its code comes from the x-ms-error-code header alone.
    assert raised.value.error_code == "ContainerNotFound"


@pytest.mark.parametrize("operation", ["download_blob", "get_blob_properties", "delete_blob"])
def test_every_operation_on_a_missing_blob_is_blob_not_found(
    blob: Blob, container: str, operation: str
) -> None:
    with pytest.raises(ResourceNotFoundError) as raised:
        getattr(blob, operation)(container, "missing")
    assert (raised.value.status_code, raised.value.error_code) == (404, "BlobNotFound")


@pytest.mark.parametrize("operation", ["download_blob", "delete_blob", "upload_blob"])
def test_if_match_on_a_changed_blob_is_condition_not_met(
    blob: Blob, container: str, operation: str
) -> None:
    old = blob.upload_blob(container, "b", b"one")
    blob.upload_blob(container, "b", b"two")
    arguments = (container, "b", b"three") if operation == "upload_blob" else (container, "b")
    with pytest.raises(ResourceModifiedError) as raised:
        getattr(blob, operation)(*arguments, if_match=old)
    assert (raised.value.status_code, raised.value.error_code) == (412, "ConditionNotMet")
    assert blob.download_blob(container, "b") == b"two"  # nothing changed


def test_if_match_on_the_current_etag_goes_through(blob: Blob, container: str) -> None:
    etag = blob.upload_blob(container, "b", b"one")
    assert blob.download_blob(container, "b", if_match=etag) == b"one"
    new = blob.upload_blob(container, "b", b"two", if_match=etag)
    blob.delete_blob(container, "b", if_match=new)
    with pytest.raises(ResourceNotFoundError):
        blob.get_blob_properties(container, "b")


def test_a_status_no_map_names_is_a_plain_http_response_error(blob: Blob) -> None:
    with pytest.raises(HttpResponseError) as raised:
        blob.create_container("x")  # too short a name: 400 OutOfRangeInput
    error = raised.value
    assert type(error) is HttpResponseError
    assert (error.status_code, error.error_code) == (400, "OutOfRangeInput")


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (("", "b"), ValueError),
        ((1, "b"), TypeError),
        (("c", ""), ValueError),
        (("c", None), TypeError),
    ],
)
def test_bad_names_are_refused_before_anything_is_sent(
    blob: Blob, arguments: tuple[object, object], error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"container|blob"):
        blob.download_blob(*arguments)


def test_bad_upload_arguments_are_refused_naming_them(blob: Blob) -> None:
    with pytest.raises(TypeError, match="data must be bytes"):
        blob.upload_blob("c", "b", "text")
    with pytest.raises(ValueError, match="content_type"):
        blob.upload_blob("c", "b", b"x", content_type="")
