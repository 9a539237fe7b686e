"""Errors a user can cause or fix, each with the exit code docs/contracts.md §3 promises.

Every message is one line that says what is wrong and how to fix it; the CLI prints it
without a traceback. Anything not derived from `RagError` is a bug and may show one.
"""


class RagError(Exception):
    """Base for foreseeable failures; `exit_code` is what the CLI exits with."""

    exit_code = 2


class UsageError(RagError):
    """Bad flags, bad question, bad QA or batch file."""


class CorpusError(RagError):
    """A corpus file that cannot be used at all (missing, empty, binary, not UTF-8)."""


class IndexUnavailable(RagError):
    """The index folder is unreadable, damaged, locked or built by another model."""


class BackendUnavailable(RagError):
    """A configured backend (LLM server, Chroma server) cannot be reached."""

    exit_code = 3
