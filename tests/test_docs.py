"""The README and ``docs/`` read as the product: every example runs, every reference resolves.

Each ```` ```python ```` block of ``README.md`` and ``docs/*.md`` runs alone on the running
Python, in a fresh namespace, compiled as a reader's script would be (without this file's
``from __future__`` imports; a traceback names the Markdown file and line). The only names a
block finds there are the placeholders of ``placeholders`` below, which stand for what a
reader's code already has; the README lists them. A block that raises fails its test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest
from opentelemetry.propagate import get_global_textmap, set_global_textmap

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import PIPELINE_ORDER, HttpPipeline, RawResponse, Request
from azure_core_tracing_opentelemetry.diagnostics import load_config
from tests.local_server import BackgroundServer, QuietHandler
from tests.recording import RecordingTracerProvider

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the block's first line of code
    language: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"


def _blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page`` that name a language (an unnamed fence is plain text)."""
    found: list[Block] = []
    language: Optional[str] = None  # of the block being read; None between blocks
    start, lines = 0, list[str]()
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if language is None and line.startswith("```") and line.strip() != "```":
            language, start, lines = line[3:].strip(), number + 1, []
        elif language is not None and line.strip() == "```":
            found.append(Block(page, start, language, "\n".join(lines) + "\n"))
            language = None
        elif language is not None:
            lines.append(line)
    assert language is None, f"{page.name}: a code block is not closed"
    return found


BLOCKS = [block for page in PAGES for block in _blocks(page)]
PYTHON = [block for block in BLOCKS if block.language == "python"]
TOML = [block for block in BLOCKS if block.language == "toml"]


class _WidgetService(QuietHandler):
    """Any path: 404 when its last segment is ``missing``, else 200 ``{"name": <segment>}``."""

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        name = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
        body = json.dumps({"name": name}).encode()
        self.send_response(404 if name == "missing" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _reply  # noqa: N815


class WidgetClient:
    """The ``client`` of the examples: a service client as docs/sdk-authors.md builds one."""

    def __init__(self, endpoint: str, options: ClientOptions) -> None:
        self._endpoint = endpoint
        self._tracing_factory = TracingContextFactory(
            options, "Contoso.Widgets", "1.0.0", package_name="contoso-widgets"
        )
        self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)

    @distributed_trace
    def get_widget(self, name: str, *, context: Optional[Context] = None) -> RawResponse:
        return self._pipeline.send(Request("GET", f"{self._endpoint}/w/{name}"), context)

    @distributed_trace
    def exists(self, name: str, *, context: Optional[Context] = None) -> bool:
        response = self._pipeline.send(Request("HEAD", f"{self._endpoint}/w/{name}"), context)
        return response.status_code == 200

    def close(self) -> None:
        self._pipeline.close()


@pytest.fixture
def placeholders(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """What the examples' placeholder names stand for:

    - ``endpoint``: a service's base URL; here a server on 127.0.0.1 that answers every path
      with 200 and JSON, and 404 for ``.../missing``.
    - ``client``: a service client (``get_widget(name)``, ``exists(name)``) on that server,
      traced by its own recording provider.
    - ``ctx``: the ``Context`` a caller already has; here a new one.
    - ``provider``, ``other_provider``: tracer providers; here recording ones.
    - ``config_file``, ``kvp_pool``: a diagnostics configuration file (its log file in a
      temporary folder) and a KVP pool path in that folder, never the host's.
    - ``blob_endpoint`` (given by the test to the blocks that name it): the session's Azurite
      Blob endpoint, ``http://127.0.0.1:<port>/devstoreaccount1``.
    """
    config_file = tmp_path / "my-agent.toml"
    config_file.write_text(
        '[telemetry]\nkvp_filter = "warn,my_agent=info"\n\n'
        f"[azure_init_log_path]\npath = {json.dumps(str(tmp_path / 'agent.log'))}\n",
        encoding="utf-8",
    )
    options = ClientOptions()
    options.telemetry.tracing_provider = RecordingTracerProvider()
    propagator = get_global_textmap()
    with BackgroundServer(_WidgetService) as server:
        endpoint = server.url("").rstrip("/")
        client = WidgetClient(endpoint, options)
        yield {
            "endpoint": endpoint,
            "client": client,
            "ctx": Context(),
            "provider": RecordingTracerProvider(),
            "other_provider": RecordingTracerProvider(),
            "config_file": str(config_file),
            "kvp_pool": str(tmp_path / ".kvp_pool_1"),
        }
        client.close()
    set_global_textmap(propagator)  # an example may choose another one


@pytest.mark.parametrize("block", PYTHON, ids=[block.where for block in PYTHON])
def test_every_python_example_runs(
    block: Block, placeholders: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    if re.search(r"\bblob_endpoint\b", block.code):
        # An Azurite Blob endpoint (its development account), only for the blocks that use
        # one: the session's Azurite, which skips only without node and npm.
        placeholders = {
            **placeholders,
            "blob_endpoint": request.getfixturevalue("azurite").blob_endpoint,
        }
    # Leading newlines put the block's lines where they are in the page, for tracebacks.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, str(block.page), "exec", dont_inherit=True)
    exec(code, {"__name__": "__main__", **placeholders})


@pytest.mark.parametrize("block", TOML, ids=[block.where for block in TOML])
def test_every_configuration_example_loads(block: Block, tmp_path: Path) -> None:
    path = tmp_path / "example.toml"
    path.write_text(block.code, encoding="utf-8")
    load_config(path)


def test_the_pages_have_examples_and_the_readme_links_every_page() -> None:
    assert len(PYTHON) >= 15, [block.where for block in PYTHON]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in readme, f"the README does not link docs/{page.name}"


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as ``-``."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    outside_code = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    return {_anchor(h) for h in re.findall(r"^#+ (.+)$", outside_code, flags=re.MULTILINE)}


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_link_between_pages_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([^)#:\s]*)(?:#([^)\s]*))?\)", text):
        linked = (page.parent / target).resolve() if target else page
        assert linked.is_file(), f"{page.name} links {target}, which does not exist"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name} links {target}#{anchor}: no heading"


_TOP_FOLDERS = "azure_core_tracing_opentelemetry|azure_core_tracing|tests|samples|benchmarks"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_file_a_page_names_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for name in re.findall(rf"`((?:{_TOP_FOLDERS})/[\w./-]*)", text):
        assert (ROOT / name).exists(), f"{page.name} names {name}, which does not exist"


def test_every_page_writes_the_pipeline_order_as_the_code_does() -> None:
    order = " ".join(PIPELINE_ORDER.split())
    written = [
        (page.name, " ".join(line.split()))
        for page in PAGES
        for line in page.read_text(encoding="utf-8").splitlines()
        if "RequestIdPolicy →" in line
    ]
    assert written, "no page writes the pipeline order"
    assert all(line == order for _, line in written), written
