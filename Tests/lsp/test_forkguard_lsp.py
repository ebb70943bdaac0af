"""forkguard lsp, end to end, driven by pytest-lsp with the capabilities real editors
(Neovim 0.10, VS Code 1.65, Emacs 29) send. Run by Tests/forkguardTests/LanguageServerTests.swift
with FORKGUARD_BINARY pointing at the built binary."""
import os
import pathlib
import shutil
import tempfile

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FORKGUARD = os.environ["FORKGUARD_BINARY"]

SOURCE = """\
#include <stdio.h>
#include <unistd.h>

static void log_line(const char *text) {
  fprintf(stderr, "%s\\n", text); /* é → two bytes in UTF-8, one unit in UTF-16 */
}

void spawn(void) {
  if (fork() == 0) {
    log_line("child");
    _exit(0);
  }
}
"""


EDITORS = ["neovim@v0.10.0", "visual-studio-code@v1.65.2", "emacs@v29.1"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[FORKGUARD, "lsp"]), params=EDITORS)
async def client(lsp_client: LanguageClient, request):
    editor = request.param
    workspace = pathlib.Path(tempfile.mkdtemp(prefix="forkguard-lsp-"))
    (workspace / "spawn.c").write_text(SOURCE)
    lsp_client.workspace_root = workspace
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(editor),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="workspace")],
        )
    )
    lsp_client.position_encoding = result.capabilities.position_encoding
    yield
    await lsp_client.shutdown_session()
    shutil.rmtree(workspace, ignore_errors=True)


async def open_and_wait(client: LanguageClient, text: str = SOURCE):
    path = client.workspace_root / "spawn.c"
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="c", version=1, text=text)
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


async def test_publishes_diagnostics_with_the_chain(client: LanguageClient):
    uri = await open_and_wait(client)
    diagnostics = client.diagnostics[uri]
    assert len(diagnostics) == 1
    diagnostic = diagnostics[0]
    assert diagnostic.code == "fork-child-unsafe-call"
    assert diagnostic.source == "forkguard"
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.message.startswith("'fprintf' is not async-signal-safe")
    assert diagnostic.range.start == types.Position(line=4, character=2)
    assert diagnostic.range.end == types.Position(line=4, character=9)
    related = [(r.location.range.start.line, r.message) for r in diagnostic.related_information]
    assert related == [(9, "'log_line' called here from 'spawn'"), (8, "fork child starts here")]


async def test_edits_update_and_clear_diagnostics(client: LanguageClient):
    uri = await open_and_wait(client)
    assert len(client.diagnostics[uri]) == 1
    fixed = SOURCE.replace('fprintf(stderr, "%s\\n", text);', "(void)text;")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri), text=SOURCE)
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert len(client.diagnostics[uri]) == 1


async def test_quick_fix_inserts_a_suppression(client: LanguageClient):
    uri = await open_and_wait(client)
    diagnostic = client.diagnostics[uri][0]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    assert len(actions) == 1
    action = actions[0]
    assert action.kind == types.CodeActionKind.QuickFix
    edit = action.edit.changes[uri][0]
    assert edit.range.start == types.Position(line=4, character=0)
    assert edit.new_text == "  // forkguard:ignore fork-child-unsafe-call -- <why this is safe>\n"
    # The edited text, once saved with a reason, is clean.
    lines = SOURCE.splitlines(keepends=True)
    lines.insert(4, edit.new_text.replace("<why this is safe>", "audited"))
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="".join(lines))],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[uri]) == []


async def test_positions_use_the_negotiated_encoding(client: LanguageClient):
    text = SOURCE.replace('  fprintf(stderr, "%s\\n", text);', '  /*é*/fprintf(stderr, "%s\\n", text);')
    uri = await open_and_wait(client, text)
    offered = client.capabilities.general and client.capabilities.general.position_encodings or []
    # 'é' is 2 bytes in UTF-8 but 1 UTF-16 unit: UTF-16 unless the editor offered UTF-8.
    if types.PositionEncodingKind.Utf8 in offered:
        assert client.position_encoding == types.PositionEncodingKind.Utf8
        assert client.diagnostics[uri][0].range.start == types.Position(line=4, character=8)
    else:
        assert client.position_encoding == types.PositionEncodingKind.Utf16
        assert client.diagnostics[uri][0].range.start == types.Position(line=4, character=7)


async def test_positions_in_a_file_with_crlf_line_ends(client: LanguageClient):
    text = SOURCE.replace('  fprintf(stderr, "%s\\n", text);', '  /*é*/fprintf(stderr, "%s\\n", text);')
    uri = await open_and_wait(client, text.replace("\n", "\r\n"))
    offered = client.capabilities.general and client.capabilities.general.position_encodings or []
    start = 8 if types.PositionEncodingKind.Utf8 in offered else 7
    # The whole name is underlined, on the line clang counts, as in a file with LF ends.
    assert client.diagnostics[uri][0].range == types.Range(
        start=types.Position(line=4, character=start), end=types.Position(line=4, character=start + len("fprintf"))
    )
