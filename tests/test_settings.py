"""`Settings` is the one reader of the environment: no other module reads it on its own (rag/settings.py)."""

from __future__ import annotations

import ast

import pytest

from fakes import PROJECT
from rag.settings import Settings

PACKAGES = ("rag", "ui", "evals", "vectorstore")
# Reads still outside Settings, each with its reason (none today).
ALLOWED: set[tuple[str, str]] = set()


def environment_reads(path):
    """(line, what) for every os.environ.get / os.getenv / os.environ[...] read and click envvar=."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in ("os.environ.get", "os.getenv", "environ.get", "getenv"):
                yield node.lineno, ast.unparse(node.args[0]).strip("'\"") if node.args else name
            for keyword in node.keywords:
                if keyword.arg in ("envvar", "auto_envvar_prefix"):
                    yield node.lineno, ast.unparse(keyword.value).strip("'\"")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and ast.unparse(node.value) in ("os.environ", "environ"):
            yield node.lineno, ast.unparse(node.slice).strip("'\"")


def test_no_module_but_settings_reads_the_environment():
    found = []
    for package in PACKAGES:
        for path in sorted((PROJECT / package).rglob("*.py")):
            where = path.relative_to(PROJECT).as_posix()
            if where == "rag/settings.py":
                continue
            found += [f"{where}:{line}: {what}" for line, what in environment_reads(path)
                      if (where, what) not in ALLOWED]
    assert found == [], "read these through Settings (a field, RAG_<FIELD>) instead"


def test_the_ui_login_comes_from_rag_ui_auth_and_stays_secret():
    settings = Settings.build(env={"RAG_UI_AUTH": "ann:pa:ss"})
    assert settings.ui_auth.get_secret_value() == "ann:pa:ss"
    assert "pa:ss" not in repr(settings) and "pa:ss" not in settings.model_dump_json()
    assert settings.stamp() == Settings.build(env={}).stamp()  # a login is not what produced an answer
    assert Settings.build(env={"RAG_UI_AUTH": "ann:x"}, ui_auth="bob:y").ui_auth.get_secret_value() == "bob:y"


@pytest.mark.parametrize("source, expected", [
    ("import os\nos.environ.get('RAG_X')", [(2, "RAG_X")]),
    ("import os\nos.getenv('HOME')", [(2, "HOME")]),
    ("import os\nx = os.environ['RAG_Y']", [(2, "RAG_Y")]),
    ("import click\nclick.option('--a', envvar='RAG_A')", [(2, "RAG_A")]),
    ("import os\nos.environ['HF_HUB_OFFLINE'] = '1'", []),  # setting up a library is not reading
], ids=["get", "getenv", "subscript", "click-envvar", "write"])
def test_the_scan_finds_reads_not_writes(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert list(environment_reads(path)) == expected
