"""How long `forkguard lsp` takes to publish a file's diagnostics after an edit, measured by a
real LSP client (pytest-lsp's LanguageClient, on pygls), the way an editor drives it:
open the file, wait for its diagnostics, then EDITS times insert a comment line in a
function's body (the last line that is a lone `{`), EDITS times insert a comment line at the
top, EDITS times add or take away a call in that body (didChange each, and wait for the
file's next publishDiagnostics), then the same after didSave. A line at the top changes the
file's preamble (its leading includes and comments), which the server keeps parsed between
edits that leave it alone. A comment line changes no fact, only the lines below it: the
server's run record then moves the last findings instead of running every phase (docs/
scale.md); a call changes the facts, and every phase runs. Prints the first analysis's
seconds and the median and 90th percentile of each kind.

    python3 benchmarks/lsp-latency.py FORKGUARD PROJECT_ROOT FILE [EDITS]

Run with .build/python-packages on PYTHONPATH (scripts/setup.sh installs pytest-lsp there).
benchmarks/lsp-openssh.sh runs it on openssh 9.2p1 built with `bear -- make`; docs/scale.md
has the numbers.
"""
import asyncio
import os
import pathlib
import statistics
import sys
import time

from lsprotocol import types
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

# LSP_VERBOSE=1 prints each edit's time on stderr; LSP_TIMEOUT (seconds, 600) bounds each wait.
VERBOSE = bool(os.environ.get("LSP_VERBOSE"))
TIMEOUT = float(os.environ.get("LSP_TIMEOUT", "600"))


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def main(binary, root, relative, edits):
    root = pathlib.Path(root).resolve()
    path = root / relative
    uri = path.as_uri()
    client = make_test_lsp_client()
    # Every publication is queued: waiting with wait_for_notification can miss one that
    # arrives right behind another file's (the wait is registered only when its task runs),
    # which made a run hang now and then with the server idle.
    published = asyncio.Queue()

    features = client.protocol.fm.features
    keep_diagnostics = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def queue_diagnostics(params: types.PublishDiagnosticsParams):
        keep_diagnostics(params)
        published.put_nowait(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = queue_diagnostics
    await client.start_io(binary, "lsp")
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("neovim@v0.10.0"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        )
    )

    async def timed(send):
        # Publications of the analysis before are behind us; those for other files are skipped.
        while not published.empty():
            published.get_nowait()
        start = time.perf_counter()
        send()
        while True:
            params = await asyncio.wait_for(published.get(), timeout=TIMEOUT)
            if params.uri == uri:
                return time.perf_counter() - start, len(params.diagnostics)

    text = path.read_text(errors="replace")
    first, count = await timed(
        lambda: client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="c", version=1, text=text)
            )
        )
    )
    print(f"first analysis: {first:.3f} s ({count} diagnostics in {relative})", flush=True)
    in_body, at_top, code, saves = [], [], [], []
    version = 1
    lines = text.split("\n")
    brace = max((index for index, line in enumerate(lines) if line == "{"), default=0)
    # A call in every other edit: each one changes the facts.
    with_call = lambda n: "\n".join(lines[: brace + 1] + ["\t(void)getpid();"] * (n % 2 == 0) + lines[brace + 1 :])
    for series, edit_text in ((in_body, lambda n: "\n".join(lines[: brace + 1] + [f"\t/* edit {n} */"] + lines[brace + 1 :])),
                              (at_top, lambda n: f"/* edit {n} */\n" + text),
                              (code, with_call)):
        for edit in range(edits):
            text = edit_text(edit)
            version += 1
            seconds, _ = await timed(
                lambda: client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                    )
                )
            )
            series.append(seconds)
            if VERBOSE:
                print(f"  edit {edit}: {seconds * 1000:.0f} ms", file=sys.stderr, flush=True)
    for _ in range(edits):
        seconds, _ = await timed(
            lambda: client.text_document_did_save(
                types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri), text=text)
            )
        )
        saves.append(seconds)
    print("| after | edits | median ms | p90 ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, values in (("didChange, a comment line in a body", in_body),
                         ("didChange, a comment line at the top", at_top),
                         ("didChange, a call added or taken away", code), ("didSave", saves)):
        print(f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} | {percentile(values, 0.9) * 1000:.0f} |")
    await client.shutdown_session()


if __name__ == "__main__":
    edits = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], edits))
