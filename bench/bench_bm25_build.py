"""BM25 build time and peak memory on an existing index's catalog (writes to a scratch folder,
never into the index). Prints one line; never asserts.

    python bench/bench_bm25_build.py --index-dir /tmp/rag-scale/index-1000000-embedded
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    opts = parser.parse_args()
    from rag.bm25 import BM25Index
    from rag.index import open_catalog

    catalog = open_catalog(opts.index_dir)
    with tempfile.TemporaryDirectory(prefix="bm25-bench-") as scratch:
        started = time.perf_counter()
        index = BM25Index.build(catalog.iter_chunks_for_bm25(), spill_dir=Path(scratch))
        built = time.perf_counter() - started
        index.save(Path(scratch) / "bm25")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"chunks {index.n_docs:,}, postings {len(index.docs):,}, vocabulary {len(index.vocab):,}: "
          f"built in {built:.0f} s, peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
