"""Chat backends served over HTTP, through llama-index LLM integrations.

`LlamaIndexBackend` streams a llama-index LLM's `stream_chat` and turns the client
library's exceptions into one `BackendUnavailable` line via the backend's `explain`
function, which knows that library's error types. Both the reply and the error text pass
through `redact`, so a key echoed by a server never reaches the user.
"""

from __future__ import annotations

from typing import Callable, Iterator

from rag.backends import redact, redact_stream
from rag.errors import BackendUnavailable

CHARS_PER_TOKEN_CAP = 16  # a token is about 4 characters; this leaves a wide margin


class LlamaIndexBackend:
    def __init__(self, name: str, llm, context_tokens: int, explain: Callable[[Exception], str | None], settings):
        self.name = name
        self.llm = llm
        self.context_tokens = context_tokens
        self.explain = explain
        self.settings = settings

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        yield from redact_stream(self._deltas(messages), self.settings)

    def _deltas(self, messages: list[dict[str, str]]) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        # A server that ignores max_tokens could stream without end (and the client library
        # re-joins the whole reply at every piece): stop reading well past what was asked for.
        budget = max(4096, self.settings.llm_max_tokens * CHARS_PER_TOKEN_CAP)
        try:
            received = 0
            replies = self.llm.stream_chat(chat)
            for response in replies:
                if response.delta:
                    received += len(response.delta)
                    yield response.delta
                    if received >= budget:
                        replies.close()
                        return
        except Exception as exc:  # each client library has its own error types: explain() sorts them
            reason = self.explain(exc)
            if reason is None:
                raise
            raise BackendUnavailable(redact(f"--llm {self.name}: {reason}", self.settings)) from None
