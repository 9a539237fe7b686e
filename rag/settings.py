"""One `Settings` object, built once and passed down; nothing else reads the environment.

Precedence: field defaults <- named preset <- `RAG_*` environment variables <- explicit
overrides (CLI flags, UI controls). `Settings.build()` does all of it and turns a bad value
into a one-line `UsageError`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from rag.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # fewer papers, shorter answers: quick look-ups
    "quick": {"k": 3, "answer_max_papers": 2, "candidates": 60, "evidence_pool": 30},
    # "which papers…" questions: wider net, more papers in the answer
    "thorough": {"k": 10, "answer_max_papers": 8, "candidates": 400, "evidence_pool": 200},
}


K_MAX = 200  # most papers one answer may retrieve (--k, the UI slider, the API)

# Settings that follow their tools' usual environment variables as well as RAG_*.
STANDARD_ENV = {"openai_api_key": "OPENAI_API_KEY", "openai_base_url": "OPENAI_BASE_URL", "ollama_host": "OLLAMA_HOST"}


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    corpus: list[Path] = Field(
        default_factory=lambda: [PROJECT_ROOT / "corpus"],
        description="Corpus files or folders (.txt daily-paper dumps, .jsonl/.json papers).",
    )
    index_dir: Path = Field(
        default=PROJECT_ROOT / "index",
        description="Folder holding the index (catalog, Chroma store, BM25). Git-ignored.",
    )
    prompts_dir: Path = Field(default=PROJECT_ROOT / "prompts", description="Prompt templates.")
    embed_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="Embedding model: the bundled all-MiniLM-L6-v2 or a local "
        "sentence-transformers folder. An index only answers queries in its own model.",
    )
    embed_backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        default="auto",
        description="What runs the embedding model at ingest: ONNX Runtime with int8 weights (onnx-int8: "
        "about 1.5x PyTorch on a CPU, vectors at cosine >= 0.98 to fp32; exported from the same weights on "
        "first use), ONNX Runtime fp32 (onnx), or sentence-transformers on PyTorch (torch; the only one that "
        "runs on a GPU and any sentence-transformers model). auto: onnx-int8 on the CPU for a BERT model "
        "with mean pooling (the bundled one), torch on a GPU or for any other model. Queries always use "
        "the fp32 NumPy encoder. docs/embedding.md compares them.",
    )
    embed_device: Literal["cpu", "cuda", "auto"] = Field(
        default="cpu",
        description="Where the torch backend embeds at ingest: cpu (fp32), cuda (fp16 on an NVIDIA GPU; "
        "needs a CUDA build of torch, `make setup-gpu`), or auto (cuda when torch sees a GPU, else cpu). "
        "The onnx backends run on the CPU; queries always do.",
    )
    onnx_cache: Path | None = Field(
        default=None,
        description="Folder for the ONNX files the onnx backends export from the embedding model "
        "on first use; default <venv>/share/paper-qa/onnx (~/.cache/paper-qa/onnx outside a virtual environment).",
    )
    evidence_vectors: Literal["pooled", "standalone"] = Field(
        default="pooled",
        description="How ingest computes each abstract sentence's vector (the evidence answers "
        "are built from): pooled from the chunk pass's token vectors (almost free), or each "
        "sentence encoded on its own (about twice the embedding work). evals/README.md compares them.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="A Chroma server (http://HOST:PORT) to keep the vectors in, instead of the "
        "embedded store in the index folder; the catalog and BM25 stay in the index folder.",
    )
    chroma_token: SecretStr | None = Field(
        default=None, description="Bearer token for a Chroma server behind an authenticating proxy."
    )
    exact_search_max_chunks: int = Field(
        default=20_000, ge=0, le=1_000_000,
        description="An embedded index of at most this many chunks is searched exactly, over a NumPy copy "
        "of its vectors that ingest writes next to Chroma (index/exact/), so a query does not import "
        "chromadb (about a second); larger indexes, and indexes on a Chroma server, are searched "
        "through Chroma. 0 turns the copy off.",
    )
    embed_batch_size: int = Field(default=32, ge=1, le=1024, description="Texts per embedding batch.")
    chunk_tokens: int = Field(
        default=240, ge=32, le=2048,
        description="Target chunk size in tiktoken tokens for abstracts longer than the "
        "embedder's window; chunks are shrunk further until they fit that window.",
    )
    chunk_overlap: int = Field(default=40, ge=0, le=512, description="Token overlap between chunks.")
    llm: str = Field(default="extractive", description="Answer backend spec (docs/contracts.md §2).")
    k: int = Field(default=5, ge=1, le=K_MAX, description="Distinct papers to return as sources.")
    retriever: Literal["hybrid", "dense", "bm25"] = Field(
        default="hybrid", description="Which retrievers feed the ranking."
    )
    candidates: int = Field(
        default=200, ge=1, le=5000,
        description="Chunks each retriever contributes before fusion; fixed whatever k is, so the "
        "first k papers do not depend on k.",
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    evidence_pool: int = Field(
        default=100, ge=1, le=1000,
        description="Candidate papers (hybrid order) whose sentences are scored against the question; "
        "sources, list matches and abstention all come from this pool.",
    )
    abstain_threshold: float = Field(
        default=0.6, ge=-100.0, le=100.0,
        description="Abstain when the evidence strength (rag.relevance.evidence_strength: the share of "
        "the question's terms — each weighed by its idf and its nearness to the question's meaning — "
        "the best of the top 3 papers contains, plus half its evidence's lead over "
        "the candidate pool's median) is under this; calibrated on two corpora with "
        "evals/calibrate_evidence.py, see evals/README.md.",
    )
    abstain_on_unsaid_names: bool = Field(
        default=True,
        description="Abstain on a look-up (single, quantity, explanation, comparison) that names something "
        "(a dataset, metric or method: 'ADE20K', 'TrackingNet') the paper it would be answered from never says.",
    )
    list_relative: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="List questions: a paper matches when its evidence stands out from the pool by at least "
        "this share of the best paper's lead (and by list_min_strength, and covers list_min_coverage).",
    )
    list_min_strength: float = Field(
        default=3.0, ge=-100.0, le=100.0,
        description="List questions: a matching paper's evidence stands out from the pool by at least "
        "this many median absolute deviations.",
    )
    list_min_coverage: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="List questions: a matching paper holds at least this share of what the best-covering "
        "paper holds of the question's terms (idf-weighted).",
    )
    list_dense_weight: float = Field(
        default=0.0, ge=0.0, le=10.0,
        description="List questions: a paper's standing (what list_min_strength and list_relative measure) is "
        "its evidence match plus this many times the dense cosine of its best chunk to the question (the "
        "whole abstract, not one sentence); 0 (default) ranks on the match alone. 0.75 with list_relative "
        "0.6 names fewer wrong papers but also fewer right ones (evals/README.md, 'List matches').",
    )
    set_relative: float = Field(
        default=0.3, ge=0.0, le=1.0,
        description="Chat follow-ups over the working set ('of those, which…'): a paper of the set meets the "
        "new condition when its evidence reaches this share of the best member's lead over a topic-blind "
        "sample of the index (evals/qa/calib_chains.jsonl).",
    )
    set_min_strength: float = Field(
        default=1.0, ge=-100.0, le=100.0,
        description="Chat follow-ups over the working set: and stands out from that sample by at least this "
        "many median absolute deviations (no term-coverage test: a set is already on its topic).",
    )
    list_max: int = Field(
        default=10, ge=1, le=200,
        description="List questions name up to this many matching papers even when k is smaller "
        "(sources then hold them all); more than that and the answer says how to see the rest.",
    )
    relevance_margin: float = Field(
        default=0.05, ge=0.0, le=2.0,
        description="Single look-ups also quote papers whose evidence is within this margin of the "
        "best paper's.",
    )
    answer_max_papers: int = Field(default=4, ge=1, le=50, description="Most papers one answer cites.")
    sentences_per_paper: int = Field(
        default=4, ge=1, le=10,
        description="Most sentences a look-up quotes from its top paper (the one that answers, the "
        "contribution, the result with its numbers, the data it was trained or tested on, the next best); other "
        "papers get one each.")
    list_sentences: int = Field(
        default=3, ge=1, le=5,
        description="Sentences a list answer quotes per paper: the one that meets the question, what the "
        "paper proposes, its result with a measure (else its next best sentences); a list of up to 5 papers "
        "quotes one more (its next best), a list of one as many as a look-up.")
    llm_timeout_s: float = Field(default=120.0, gt=0, description="Seconds to wait for an LLM backend before giving up.")
    llm_max_tokens: int = Field(default=320, ge=16, le=8192, description="Most tokens an LLM may generate per answer.")
    llm_temperature: float = Field(default=0.1, ge=0.0, le=2.0, description="LLM sampling temperature.")
    llm_context_tokens: int | None = Field(
        default=None, ge=512,
        description="The model's context window; default: what the backend reports, else 4096. "
        "Sources are dropped, lowest-ranked first, until the prompt fits.",
    )
    support_threshold: float = Field(
        default=0.65, ge=-1.0, le=1.0,
        description="An LLM sentence is kept only if its similarity to a sentence of a paper it "
        "cites reaches this (calibrated with evals/calibrate_support.py).",
    )
    keep_unsupported: bool = Field(
        default=False, description="Keep unsupported LLM sentences (marked in the JSON) instead of removing them."
    )
    openai_api_key: SecretStr | None = Field(default=None, description="Key for openai: specs (OPENAI_API_KEY).")
    openai_base_url: str | None = Field(default=None, description="OpenAI-compatible server URL (OPENAI_BASE_URL).")
    ollama_host: str = Field(default="http://127.0.0.1:11434", description="Ollama server URL (OLLAMA_HOST).")
    ui_auth: SecretStr | None = Field(
        default=None,
        description="USER:PASSWORD that `rag ui` requires (--auth); guards the page and the API alike.",
    )
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are refused.")
    correct_typos: bool = Field(
        default=True,
        description="Answer a question as spelled right: a word the corpus never uses, that is no English word, "
        "and is one slip from a word the corpus does use ('vison' -> 'vision', 'wich' -> 'which') is read as "
        "that word (rag/spelling.py); `retrieval_query` shows what was searched.",
    )
    snippet_chars: int = Field(default=320, ge=40, description="Length of a source's snippet.")

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        from vectorstore.chroma_store import parse_url

        parse_url(url)  # ValueError names what is wrong
        return url.strip().rstrip("/")

    @classmethod
    def build(
        cls,
        preset: str | None = None,
        env: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> "Settings":
        env = os.environ if env is None else env
        preset = preset or env.get("RAG_PRESET") or "default"
        if preset not in PRESETS:
            raise UsageError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
        values: dict[str, Any] = dict(PRESETS[preset])
        for name in cls.model_fields:
            raw = env.get(f"RAG_{name.upper()}") or env.get(STANDARD_ENV.get(name, ""))
            if raw not in (None, ""):
                values[name] = raw.split(os.pathsep) if name == "corpus" else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            where = f"--{field.replace('_', '-')}" if overrides.get(field) is not None else f"RAG_{field.upper()}"
            raise UsageError(f"bad value for {where}: {err['msg']}") from None

    def stamp(self) -> str:
        """A short hash of every setting, so an answer says what produced it."""
        secrets = {"openai_api_key", "chroma_token", "ui_auth"}
        blob = json.dumps(self.model_dump(mode="json", exclude=secrets), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]
