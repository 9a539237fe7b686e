"""Scale benchmark: ingest throughput, index size, peak memory and hybrid query latency at
300 (the shipped corpus), 100k and 1M papers, embedded Chroma and (optionally) a Chroma server.

Synthetic papers (arXiv snapshot JSONL, written once to --work): each takes the title of a
random shipped paper plus its number, and an abstract of 5-7 sentences drawn from 2-3 random
shipped papers. Its vectors are not computed by the model (1M abstracts would take about a
day on 2 cores): `SentenceMix` gives a chunk the normalised sum of the real all-MiniLM-L6-v2
vectors of its sentences (each embedded once, by the real model) plus a little seeded noise,
so the vectors cluster like real ones. Everything else is the real ingest: streaming read,
staging, chunking, Chroma, catalog, BM25. The vocabulary is the shipped corpus's, so BM25
postings are denser than real arXiv text's (a pessimistic query cost). The model's own
throughput is measured by bench/bench_embed.py.

    python bench/bench_scale.py --sizes 300,100000 --server      # about 15 min on 2 cores
    python bench/bench_scale.py --sizes 1000000 --bulk           # about 40 min
`--bulk` builds the synthetic indexes without the ingest pipeline (one chunk per paper,
straight into the catalog and Chroma, then the real BM25 build): the query side is the same,
and the pipeline's own throughput is what the non-bulk 100k row measures.
Each size runs in fresh processes; peak memory is each process's max RSS. Never asserts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
CATEGORIES = ["cs.CL", "cs.CV", "cs.LG", "cs.AI", "cs.IR", "cs.RO", "eess.AS", "stat.ML"]
SPLIT = re.compile(r"(?<=[.!?])\s+")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sentences_file(work: Path) -> Path:
    """Every sentence of the shipped corpus with its real embedding (computed once)."""
    path = work / "sentences.json"
    if path.exists():
        return path
    from rag.corpus import load_corpus
    from rag.embed import load_query_encoder

    papers = load_corpus([PROJECT / "corpus"]).papers
    texts = sorted({s for p in papers for s in SPLIT.split(p.abstract) if len(s.split()) >= 4})
    number = {s: i for i, s in enumerate(texts)}
    vectors = load_query_encoder("all-MiniLM-L6-v2").encode(texts)
    by_paper = [[number[s] for s in SPLIT.split(p.abstract) if s in number] for p in papers]
    np.save(work / "sentences.npy", vectors)
    path.write_text(json.dumps({"texts": texts, "titles": [p.title for p in papers], "by_paper": by_paper}))
    return path


def load_sentences(work: Path) -> tuple[dict, np.ndarray]:
    data = json.loads(sentences_file(work).read_text())
    return data, np.load(work / "sentences.npy")


def synthetic_corpus(work: Path, n: int) -> Path:
    path = work / f"synthetic-{n}.jsonl"
    if path.exists():
        return path
    data, _ = load_sentences(work)
    texts, titles, by_paper = data["texts"], data["titles"], data["by_paper"]
    rng = random.Random(n)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as out:
        for i in range(n):
            sources = rng.sample(range(len(titles)), rng.choice((2, 3)))
            pool = [s for p in sources for s in by_paper[p]]
            picked = rng.sample(pool, min(len(pool), rng.randint(5, 7)))
            record = {"id": f"{2001 + i // 100000}.{i % 100000:05d}", "title": f"{titles[sources[0]]} ({i})",
                      "abstract": " ".join(texts[s] for s in picked), "categories": rng.choice(CATEGORIES),
                      "update_date": f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                      "authors": "Synthetic Author"}
            out.write(json.dumps(record) + "\n")
    tmp.rename(path)
    return path


class SentenceMix:
    """An encoder for synthetic chunks: the sum of its sentences' real vectors, plus noise."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, work: Path):
        from rag.embed import load_query_encoder

        data, vectors = load_sentences(work)
        self.vectors = dict(zip(data["texts"], vectors))
        self.dim = vectors.shape[1]
        self.tokens = load_query_encoder("all-MiniLM-L6-v2")  # for its tokenizer only
        self.max_tokens = self.tokens.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.tokens.count_tokens(text)

    def encode_with_spans(self, texts, spans, batch_size=32):
        """Chunk vectors as `encode`, and each sentence span's vector: its real vector (what
        pooling the chunk pass's tokens costs is measured by bench_embed, not here)."""
        pieces = [[t[a:b] for a, b in sp] for t, sp in zip(texts, spans)]
        return self.encode(texts, batch_size), [self.sentence_vectors(p) for p in pieces]

    def sentence_vectors(self, sentences):
        out = np.zeros((len(sentences), self.dim), dtype=np.float32)
        for row, sentence in enumerate(sentences):
            vec = self.vectors.get(sentence)
            out[row] = vec if vec is not None else self.encode([sentence])[0]
        return out

    def encode(self, texts, batch_size=32):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            body = text.split("\n", 1)[-1]
            for sentence in SPLIT.split(body):
                vec = self.vectors.get(sentence)
                if vec is not None:
                    out[row] += vec
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            out[row] += np.random.default_rng(seed).normal(0, 0.02, self.dim).astype(np.float32)
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out


# -- steps run in child processes, so each has its own peak memory ---------------------------

def step_ingest(work: Path, corpus: Path, index_dir: Path, chroma_url: str | None) -> dict:
    from rag.corpus import CorpusReader
    from rag.ingest import ingest
    from rag.settings import Settings

    settings = Settings.build(env={}, corpus=[corpus], index_dir=index_dir, chroma_url=chroma_url)
    encoder = SentenceMix(work) if corpus.suffix == ".jsonl" else None
    started = time.perf_counter()
    report = ingest(settings, CorpusReader([corpus]), progress=sys.stderr.isatty(), encoder=encoder)
    return {"seconds": time.perf_counter() - started, "papers": report.papers,
            "chunks": report.chunks_embedded, "embed_seconds": report.embed_seconds}


def step_bulk(work: Path, corpus: Path, index_dir: Path, chroma_url: str | None) -> dict:
    """Build the same index without the ingest pipeline: one chunk per paper, written straight
    to the catalog and Chroma in large batches, then the real BM25 build. For the 1M point,
    whose pipeline run would take hours here; the pipeline's throughput is measured at 100k."""
    from datetime import datetime, timezone

    from rag.chunking import chunk_text
    from rag.corpus import CorpusReader
    from rag.index import INDEX_FORMAT, READY, build_bm25, open_catalog, open_store
    from rag.ingest import chunk_metadata, content_hash, meta_hash
    from rag.records import Chunk

    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    catalog = open_catalog(index_dir)
    config = {"embed_model": "all-MiniLM-L6-v2", "chunk_tokens": 240, "chunk_overlap": 40}
    catalog.set_meta(state="building", format=INDEX_FORMAT, embed_model="all-MiniLM-L6-v2", chunking=config)
    store = open_store(index_dir, catalog, chroma_url, creating=True)
    encoder = SentenceMix(work)
    papers = 0
    batch: list = []

    def flush() -> None:
        chunks = [Chunk(f"{p.paper_id}:0", p.paper_id, 0, chunk_text(p.title, p.abstract)) for p in batch]
        vectors = encoder.encode([c.text for c in chunks])
        store.upsert([c.chunk_id for c in chunks], vectors, [chunk_metadata(p, 0) for p in batch])
        catalog.put_papers((p, content_hash(p, config), meta_hash(p), [c]) for p, c in zip(batch, chunks))
        batch.clear()

    for paper, _ in CorpusReader([corpus]).entries():
        batch.append(paper)
        papers += 1
        if len(batch) == 5000:
            flush()
    flush()
    loaded = time.perf_counter() - started
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    catalog.set_meta(version=1, built_at=now, updated_at=now, embed_dim=encoder.dim)
    t0 = time.perf_counter()
    build_bm25(catalog, index_dir)
    bm25_s = time.perf_counter() - t0
    catalog.set_meta(state=READY)
    catalog.close()
    return {"seconds": time.perf_counter() - started, "papers": papers, "chunks": papers, "embed_seconds": 0.0,
            "load_s": loaded, "bm25_s": bm25_s}


def step_query(index_dir: Path, chroma_url: str | None, queries: int) -> dict:
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    questions = [json.loads(line)["question"] for line in (PROJECT / "evals/qa/dev.jsonl").read_text().splitlines()]
    questions += [json.loads(line)["question"] for line in (PROJECT / "tests/data/retrieval_questions.jsonl").read_text().splitlines()]
    pipeline = Pipeline(Settings.build(env={}, index_dir=index_dir, chroma_url=chroma_url), progress=False)
    started = time.perf_counter()
    retriever = pipeline.retriever()
    open_s = time.perf_counter() - started
    vectors = pipeline.encoder.encode(questions)
    out = {"open_s": open_s}
    for mode in ("hybrid", "dense", "bm25"):
        times = []
        for i in range(queries):
            q = i % len(questions)
            t0 = time.perf_counter()
            retriever.search(questions[q], k=5, mode=mode, query_vector=vectors[q])
            times.append((time.perf_counter() - t0) * 1000)
        out[mode] = (statistics.median(times), percentile(times, 0.95))
    # The whole extractive answer: the pool of candidate papers judged on their sentences
    times = []
    for i in range(min(queries, 100)):
        t0 = time.perf_counter()
        pipeline.ask(questions[i % len(questions)])
        times.append((time.perf_counter() - t0) * 1000)
    out["answer"] = (statistics.median(times), percentile(times, 0.95))
    return out


def run_step(args: list[str]) -> tuple[dict, float]:
    """Run `bench_scale.py _step …` in a child; returns its JSON and its peak RSS in MB."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=False)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"step {args[:2]} failed (status {status})")
    return json.loads(out), usage.ru_maxrss / 1024


def cold_ask(index_dir: Path, runs: int, chroma_url: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    cmd = [str(Path(sys.executable).parent / "ask"), "--json", "--llm", "extractive", "--index-dir", str(index_dir)]
    cmd += ["--chroma-url", chroma_url] if chroma_url else []
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([*cmd, "which methods prune tokens without fine-tuning?"], capture_output=True, env=env)
        walls.append(time.perf_counter() - t0)
        if done.returncode:
            raise SystemExit(done.stderr.decode())
    return statistics.median(walls)


def sizes_on_disk(index_dir: Path) -> dict:
    from rag.index import folder_size

    return {"catalog": (index_dir / "catalog.sqlite").stat().st_size / 1e6,
            "chroma": folder_size(index_dir / "chroma") / 1e6 if (index_dir / "chroma").exists() else 0.0,
            "bm25": folder_size(index_dir / "bm25") / 1e6}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_step":
        kind, rest = sys.argv[2], sys.argv[3:]
        url = rest[3] if len(rest) > 3 and rest[3] != "-" else None
        if kind in ("ingest", "bulk"):
            step = step_ingest if kind == "ingest" else step_bulk
            result = step(Path(rest[0]), Path(rest[1]), Path(rest[2]), url)
        else:
            result = step_query(Path(rest[1]), url, int(rest[2]))
        sys.stdout.write(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,100000", help="comma-separated paper counts; 300 = the shipped corpus")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-scale"), help="corpora and indexes (reused)")
    parser.add_argument("--server", action="store_true", help="also build and query through a Chroma server")
    parser.add_argument("--bulk", action="store_true",
                        help="build synthetic indexes by bulk-loading them (one chunk per paper, no ingest pipeline)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cold-runs", type=int, default=5)
    opts = parser.parse_args()
    opts.work.mkdir(parents=True, exist_ok=True)
    os.environ["HF_HUB_OFFLINE"] = "1"

    rows = []
    for size in [int(s) for s in opts.sizes.split(",")]:
        corpus = PROJECT / "corpus" if size == 300 else synthetic_corpus(opts.work, size)
        modes = [("embedded", None)] + ([("server", "server")] if opts.server else [])
        for store, _ in modes:
            index_dir = opts.work / f"index-{size}-{store}"
            server = None
            url = None
            if store == "server":
                from vectorstore.server import ChromaServer

                server = ChromaServer(opts.work / f"chroma-server-{size}", log=opts.work / "chroma-server.log")
                url = server.start()
            try:
                built = None
                if not (index_dir / "catalog.sqlite").exists():
                    how = "bulk" if opts.bulk and size != 300 else "ingest"
                    built, ingest_mb = run_step(["_step", how, str(opts.work), str(corpus), str(index_dir), url or "-"])
                    if how == "bulk":
                        print(f"({size:,} {store}: bulk-loaded in {built['load_s']:.0f} s, BM25 built in "
                              f"{built['bm25_s']:.0f} s)", flush=True)
                query, query_mb = run_step(["_step", "query", "", str(index_dir), str(opts.queries), url or "-"])
                cold = cold_ask(index_dir, opts.cold_runs, url)
            finally:
                if server:
                    server.stop()
            disk = sizes_on_disk(index_dir)
            if store == "server":
                disk["chroma"] = sum(f.stat().st_size for f in (opts.work / f"chroma-server-{size}").rglob("*") if f.is_file()) / 1e6
            rows.append((size, store, built, ingest_mb if built else None, disk, query, query_mb, cold))
            print_row(rows[-1], header=len(rows) == 1)


def print_row(row, header: bool) -> None:
    size, store, built, ingest_mb, disk, query, query_mb, cold = row
    if header:
        print("| papers | store | ingest papers/s (wall) | ingest peak MB | index MB (catalog/chroma/bm25) | open s "
              "| hybrid p50/p95 ms | dense p50/p95 | bm25 p50/p95 | extractive answer p50/p95 | query peak MB | cold ask s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ingest = f"{built['papers'] / built['seconds']:.0f} ({built['seconds']:.0f} s)" if built else "(reused)"
    total = sum(disk.values())
    print(f"| {size:,} | {store} | {ingest} | {ingest_mb:.0f} | " if ingest_mb else f"| {size:,} | {store} | {ingest} | – | ",
          end="")
    print(f"{total:.0f} ({disk['catalog']:.0f}/{disk['chroma']:.0f}/{disk['bm25']:.0f}) | {query['open_s']:.2f} | "
          f"{query['hybrid'][0]:.1f}/{query['hybrid'][1]:.1f} | {query['dense'][0]:.1f}/{query['dense'][1]:.1f} | "
          f"{query['bm25'][0]:.1f}/{query['bm25'][1]:.1f} | {query['answer'][0]:.0f}/{query['answer'][1]:.0f} | "
          f"{query_mb:.0f} | {cold:.2f} |", flush=True)


if __name__ == "__main__":
    main()
