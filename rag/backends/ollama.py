"""`ollama:MODEL`: an Ollama server (OLLAMA_HOST), through llama-index's Ollama integration."""

from __future__ import annotations

from rag.backends.llamaindex_chat import LlamaIndexBackend

DEFAULT_CONTEXT = 4096


def load(kind: str, model: str, settings) -> LlamaIndexBackend:
    from llama_index.llms.ollama import Ollama

    host = settings.ollama_host
    context = settings.llm_context_tokens or DEFAULT_CONTEXT
    llm = Ollama(model=model, base_url=host, request_timeout=settings.llm_timeout_s, context_window=context,
                 temperature=settings.llm_temperature, additional_kwargs={"num_predict": settings.llm_max_tokens})

    def explain(exc: Exception) -> str | None:
        import httpx
        import ollama

        if isinstance(exc, httpx.TimeoutException):
            return f"no answer from Ollama at {host} within {settings.llm_timeout_s:g} s: check the server, or raise RAG_LLM_TIMEOUT_S"
        if isinstance(exc, (httpx.ConnectError, ConnectionError)):
            return f"cannot reach Ollama at {host}: start it (`ollama serve`), or set OLLAMA_HOST"
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404:
                return f"Ollama at {host} has no model {model!r}: run `ollama pull {model}`"
            return f"Ollama at {host} answered HTTP {exc.status_code}: check the server's log"
        if isinstance(exc, httpx.HTTPError):
            return f"Ollama at {host} failed ({type(exc).__name__}): check the server"
        return None

    return LlamaIndexBackend(f"ollama:{model}", llm, context, explain, settings)
