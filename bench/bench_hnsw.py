"""How exact is Chroma's approximate (HNSW) vector search on our index? Default vs shipped config.

Takes the chunk embeddings of an existing index, and for each configuration builds `--builds`
fresh Chroma collections in random insertion orders (HNSW construction depends on it) and
queries each with every test and dev question and every chunk, asking for the 50 candidates
the retriever asks for. Prints, per configuration, how many builds left one of a query's exact
10 nearest chunks out of those 50, and how many got a query's nearest chunk wrong.

    python bench/bench_hnsw.py [--index-dir DIR] [--builds 6]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
CANDIDATES, TOP = 50, 10


def build_and_query(ids, chunks, queries, exact, config, seed) -> tuple[int, int]:
    """(queries missing one of their exact top 10, queries whose first result is wrong)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    folder = tempfile.mkdtemp(prefix="hnsw-")
    try:
        client = chromadb.PersistentClient(folder, settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("bench_hnsw", configuration={"hnsw": config},
                                                     embedding_function=None)
        order = np.random.default_rng(seed).permutation(len(ids))
        for start in range(0, len(ids), 128):
            part = order[start:start + 128]
            collection.upsert(ids=[ids[i] for i in part], embeddings=chunks[part])
        found = collection.query(query_embeddings=queries, n_results=CANDIDATES, include=[])["ids"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    position = {chunk_id: i for i, chunk_id in enumerate(ids)}
    got = [[position[c] for c in row] for row in found]
    incomplete = sum(1 for want, have in zip(exact, got) if not set(want) <= set(have))
    wrong_first = sum(1 for want, have in zip(exact, got) if want[0] != have[0])
    return incomplete, wrong_first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--builds", type=int, default=6)
    opts = parser.parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

    from rag.embed import load_query_encoder
    from rag.index import Index
    from rag.settings import Settings
    from vectorstore.chroma_store import HNSW

    settings = Settings.build(index_dir=opts.index_dir)
    index = Index(Path(settings.index_dir), "all-MiniLM-L6-v2")
    got = index.chroma.collection.get(include=["embeddings"])
    ids, chunks = got["ids"], np.asarray(got["embeddings"], dtype=np.float32)
    questions = [json.loads(line)["question"]
                 for name in ("tests/data/retrieval_questions.jsonl", "evals/qa/dev.jsonl")
                 for line in (PROJECT / name).read_text().splitlines() if line.strip()]
    queries = np.vstack([load_query_encoder(settings.embed_model).encode(questions), chunks]).astype(np.float32)
    exact = np.argsort(-(queries @ chunks.T), axis=1)[:, :TOP].tolist()
    print(f"{len(ids)} chunks, {len(queries)} queries ({len(questions)} questions + every chunk), "
          f"{CANDIDATES} candidates, {opts.builds} builds per configuration")
    print(f"{'configuration':<60} builds missing an exact top-{TOP}  builds with a wrong first  queries affected")
    for name, config in (("Chroma default (ef_construction 100, ef_search 100)", {"space": "cosine"}),
                         (f"shipped ({', '.join(f'{k} {v}' for k, v in HNSW.items() if k != 'space')})", HNSW)):
        results = [build_and_query(ids, chunks, queries, exact, config, seed) for seed in range(opts.builds)]
        print(f"{name:<60} {sum(r[0] > 0 for r in results):>3}/{opts.builds}"
              f"{sum(r[1] > 0 for r in results):>29}/{opts.builds}"
              f"{'':>12}{', '.join(str(r[0]) for r in results)}")


if __name__ == "__main__":
    main()
