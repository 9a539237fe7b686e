"""The `rag ui` command: serve the Gradio chat (ui/app.py) on 127.0.0.1:7860 by default.

`build_ui_command(guarded)` returns the click command; rag/cli.py registers it, passing its
`guarded` wrapper so foreseeable errors print one line and exit with the contract's code.
Only click and the standard library are imported here: Gradio (about 3 s) and the pipeline
load when the command runs, so `ask --help` stays instant. Settings are built as the other
commands build them (defaults <- preset <- RAG_* <- flags), the login included (`ui_auth`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """'user:password' -> ('user', 'password'); the password may itself contain ':'."""
    from rag.errors import UsageError

    if not value:
        return None
    user, sep, password = value.partition(":")
    if not (sep and user and password):
        raise UsageError("--auth / RAG_UI_AUTH must be USER:PASSWORD, e.g. --auth ann:s3cret")
    return user, password


def build_ui_command(guarded) -> click.Command:
    @click.command(name="ui")
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="Address to listen on; 0.0.0.0 serves every network interface (add --auth).")
    @click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True, help="Port to listen on.")
    @click.option("--share", is_flag=True, help="Also publish a temporary public gradio.live link (off unless given).")
    @click.option("--auth", metavar="USER:PASSWORD", help="Require this login (RAG_UI_AUTH).")
    @click.option("--llm", help="Default answer backend: extractive, local, gguf:PATH, ollama:MODEL, openai:MODEL (RAG_LLM).")
    @click.option("--k", type=int, help="Default number of papers per answer (default 5).")
    @click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder (default: ./index in the project; RAG_INDEX_DIR).")
    @click.option("--preset", help="Named settings preset: default, quick, thorough (RAG_PRESET).")
    @guarded
    def ui_command(host, port, share, auth, llm, k, index_dir, preset):
        """Chat with the papers in a browser: streamed answers, linked citations, sources.

        Example: rag ui, then open http://127.0.0.1:7860
        """
        from rag.errors import UsageError
        from rag.settings import Settings

        settings = Settings.build(preset=preset, index_dir=index_dir, llm=llm, k=k, ui_auth=auth)
        credentials = parse_auth(settings.ui_auth.get_secret_value() if settings.ui_auth else None)

        from rag.pipeline import Pipeline

        try:
            from ui.app import ChatApp
        except ModuleNotFoundError as exc:
            if exc.name not in ("gradio", "gradio_client"):
                raise
            raise UsageError("the chat needs Gradio, which is not installed: run `make setup-ui` "
                             "(or pip install -e '.[ui]')") from None

        def make_pipeline(spec: str) -> Pipeline:
            return Pipeline(settings.model_copy(update={"llm": spec}), progress=sys.stderr.isatty())

        app = ChatApp(settings, make_pipeline=make_pipeline)
        if credentials is None and host not in ("127.0.0.1", "localhost", "::1"):
            click.echo(f"warning: serving on {host} without --auth: anyone who can reach it can use it", err=True)
        if credentials is None and share:
            click.echo("warning: --share without --auth: anyone who has the public link can use it", err=True)
        app.launch(host=host, port=port, share=share, auth=credentials, announce=click.echo)

    return ui_command
