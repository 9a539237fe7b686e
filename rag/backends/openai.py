"""`openai:MODEL`: any OpenAI-compatible chat server (OPENAI_BASE_URL, OPENAI_API_KEY),
through llama-index's OpenAILike, which accepts any model name (OpenAI's own class checks
names against its list of OpenAI models)."""

from __future__ import annotations

from rag.backends.llamaindex_chat import LlamaIndexBackend

DEFAULT_CONTEXT = 8192
DEFAULT_BASE = "https://api.openai.com/v1"


def load(kind: str, model: str, settings) -> LlamaIndexBackend:
    from llama_index.llms.openai_like import OpenAILike

    base = settings.openai_base_url or DEFAULT_BASE
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    context = settings.llm_context_tokens or DEFAULT_CONTEXT
    llm = OpenAILike(model=model, api_base=base, api_key=key, is_chat_model=True, context_window=context,
                     max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                     timeout=settings.llm_timeout_s, max_retries=0)

    def explain(exc: Exception) -> str | None:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return f"no answer from {base} within {settings.llm_timeout_s:g} s: check the server, or raise RAG_LLM_TIMEOUT_S"
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot reach an OpenAI-compatible server at {base}: start it, or set OPENAI_BASE_URL"
        if isinstance(exc, openai.AuthenticationError):
            return f"{base} refused the API key (HTTP 401): check OPENAI_API_KEY"
        if isinstance(exc, openai.NotFoundError):
            return f"{base} has no model {model!r} (HTTP 404): check the model name"
        if isinstance(exc, openai.APIStatusError):
            return f"{base} answered HTTP {exc.status_code}: check the server's log"
        if isinstance(exc, openai.APIError):  # e.g. an error event in the middle of the stream
            return f"{base} sent an error instead of an answer ({type(exc).__name__}): check the server's log"
        return None

    return LlamaIndexBackend(f"openai:{model}", llm, context, explain, settings)
