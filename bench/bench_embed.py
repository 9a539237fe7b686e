"""Embedding benchmark: sentence-transformers (torch) vs ONNX Runtime fp32 vs ONNX int8 vs NumPy.

Encodes real abstracts of the shipped corpus ("title\\nabstract", as ingest embeds a paper
that fits the window; longer ones are truncated at 256 word pieces by each encoder) and
prints abstracts/s (median over repeats, the backends taking turns so background load hits
them alike), the ratio to torch, and each backend's cosine to torch. Never asserts on time.
`--spans` times `encode_with_spans` with each abstract's sentence spans instead of `encode`:
what ingest runs (evidence vectors pooled from the chunk pass). docs/embedding.md has figures.

    python bench/bench_embed.py                      # every abstract, ONNX files from the cache
    python bench/bench_embed.py --spans              # as ingest embeds (text + sentence vectors)
    python bench/bench_embed.py --fresh --repeats 5  # export into a temp folder, timing it
    python bench/bench_embed.py --device cuda --synthetic 20000  # the torch encoder on a GPU (fp16)

`--device cpu|cuda|auto` times only the torch ingest encoder on that device (as `rag ingest
--device`), `--synthetic N` over N abstracts of ~200 word pieces made deterministically from
the shipped corpus' sentences (so a GPU gets enough work), with the cosine to fp32 on the CPU.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="abstracts to encode (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: os.cpu_count())")
    parser.add_argument("--fresh", action="store_true", help="export into a temp folder (times the export)")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--spans", action="store_true", help="time encode_with_spans with sentence spans, as ingest does")
    parser.add_argument("--no-numpy", action="store_true", help="leave out the NumPy encoder (the slowest on long texts)")
    parser.add_argument("--device", choices=["cpu", "cuda", "auto"], help="time only the torch encoder, on this device")
    parser.add_argument("--synthetic", type=int, metavar="N", help="N synthetic ~200-token abstracts (with --device)")
    opts = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    if opts.device or opts.synthetic:
        return bench_device(opts)

    import numpy as np

    from rag.corpus import load_corpus
    from rag.embed import SentenceTransformerEncoder, model_dir
    from rag.embed.numpy_bert import NumpyBertEncoder
    from rag.embed.onnx_bert import OnnxEncoder, default_cache_dir, onnx_model_path

    path = model_dir(opts.model)
    papers = load_corpus([PROJECT / "corpus"]).papers[: opts.limit]
    texts, spans = texts_with_spans(papers)
    cache = Path(tempfile.mkdtemp(prefix="rag-onnx-")) if opts.fresh else default_cache_dir()
    encoders, load_s, notes = {}, {}, []
    t0 = time.perf_counter()  # first, so its load time includes importing torch
    encoders["sentence-transformers (torch)"] = SentenceTransformerEncoder(path)
    load_s["sentence-transformers (torch)"] = time.perf_counter() - t0
    for quantize in (False, True):
        t0 = time.perf_counter()
        file = onnx_model_path(path, quantize, cache)
        how = "exported (torch already imported)" if opts.fresh else "from the cache, or exported if missing"
        notes.append(f"{file.name}: {file.stat().st_size / 1e6:.1f} MB, ready in {time.perf_counter() - t0:.1f} s, {how}")
        name = f"ONNX {'int8' if quantize else 'fp32'}"
        t0 = time.perf_counter()
        encoders[name] = OnnxEncoder(path, quantize=quantize, threads=opts.threads, cache_dir=cache)
        load_s[name] = time.perf_counter() - t0
    if not opts.no_numpy:
        t0 = time.perf_counter()
        encoders["NumPy (the query encoder)"] = NumpyBertEncoder(path)
        load_s["NumPy (the query encoder)"] = time.perf_counter() - t0

    def run(encoder, n: int):
        if opts.spans:
            return encoder.encode_with_spans(texts[:n], spans[:n], batch_size=opts.batch_size)[0]
        return encoder.encode(texts[:n], batch_size=opts.batch_size)

    for encoder in encoders.values():
        run(encoder, 8)  # warm-up

    rates: dict[str, list[float]] = {name: [] for name in encoders}
    vectors: dict[str, np.ndarray] = {}
    load_before = os.getloadavg()[0]
    for _ in range(opts.repeats):
        for name, encoder in encoders.items():
            t0 = time.perf_counter()
            vectors[name] = run(encoder, len(texts))
            rates[name].append(len(texts) / (time.perf_counter() - t0))
    load_after = os.getloadavg()[0]

    import torch

    torch_name = next(iter(encoders))
    base = statistics.median(rates[torch_name])
    tokens = [min(encoders["ONNX fp32"].count_tokens(t), 256) for t in texts]
    header = f"{'backend':<31}{'load s':>7}{'abstracts/s':>13}{'min–max':>13}{'× torch':>9}{'cos mean':>10}{'cos min':>9}"
    what = f"encode_with_spans ({sum(map(len, spans))} sentence spans)" if opts.spans else "encode"
    print(f"\nembedding benchmark, {what}: {len(texts)} abstracts (mean {statistics.mean(tokens):.0f} word pieces after "
          f"truncation), batch {opts.batch_size}, {opts.repeats} repeats, {os.cpu_count()} cores; torch threads "
          f"{torch.get_num_threads()}, ONNX threads {opts.threads or os.cpu_count()}; "
          f"1-min load average {load_before:.2f} before, {load_after:.2f} after\n")
    print(header)
    print("-" * len(header))
    for name in encoders:
        cos = (vectors[name] * vectors[torch_name]).sum(1)
        rate = statistics.median(rates[name])
        spread = f"{min(rates[name]):.1f}–{max(rates[name]):.1f}"
        print(f"{name:<31}{load_s[name]:>7.1f}{rate:>13.1f}{spread:>13}{rate / base:>9.2f}{cos.mean():>10.5f}{cos.min():>9.5f}")
    print()
    for note in notes:
        print(note)
    if opts.fresh:
        shutil.rmtree(cache, ignore_errors=True)


def texts_with_spans(papers) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Each paper as ingest embeds one that fits the window ("title\nabstract"), and each of its
    abstract's sentences' place in that text, as ingest pools them."""
    from rag.chunking import chunk_text
    from rag.sentences import split_sentences

    texts = [chunk_text(p.title, p.abstract) for p in papers]
    spans = [[(at, at + len(s)) for s in split_sentences(p.abstract) if (at := text.find(s)) >= 0]
             for p, text in zip(papers, texts)]
    return texts, spans


def synthetic_abstracts(n: int, count_tokens, tokens: int = 200) -> list[str]:
    """n texts of about `tokens` word pieces: the shipped corpus' sentences, shuffled with a
    fixed seed and strung together, so every run (and every machine) times the same texts."""
    import random

    from rag.corpus import load_corpus
    from rag.sentences import split_sentences

    sentences = [s for p in load_corpus([PROJECT / "corpus"]).papers for s in split_sentences(p.abstract)]
    rng = random.Random(15)
    texts, at = [], 0
    order = list(range(len(sentences)))
    while len(texts) < n:
        if at == 0:
            rng.shuffle(order)
        text = ""
        while count_tokens(text) < tokens:
            text = f"{text} {sentences[order[at]]}".strip()
            at = (at + 1) % len(order)
        texts.append(text)
    return texts


def bench_device(opts) -> None:
    import numpy as np
    import torch

    from rag.embed import load_ingest_encoder

    t0 = time.perf_counter()
    encoder = load_ingest_encoder(opts.model, show_progress=False, device=opts.device or "cpu")
    load_s = time.perf_counter() - t0
    texts = synthetic_abstracts(opts.synthetic or 200, encoder.count_tokens)
    spans = [[(0, len(t) // 2), (len(t) // 2, len(t))] for t in texts]

    def run(n: int):
        if opts.spans:
            return encoder.encode_with_spans(texts[:n], spans[:n], batch_size=opts.batch_size)[0]
        return encoder.encode(texts[:n], batch_size=opts.batch_size)

    run(opts.batch_size)  # warm-up (CUDA context, kernels)
    rates = []
    for _ in range(opts.repeats):
        if encoder.device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        vectors = run(len(texts))
        rates.append(len(texts) / (time.perf_counter() - t0))
    sample = min(len(texts), 256)
    reference = vectors[:sample] if encoder.device == "cpu" else load_ingest_encoder(
        opts.model, show_progress=False, device="cpu").encode(texts[:sample], batch_size=opts.batch_size)
    cos = (vectors[:sample] * reference).sum(1)
    mean_tokens = np.mean([min(encoder.count_tokens(t), encoder.max_tokens) for t in texts])
    name = torch.cuda.get_device_name() if encoder.device == "cuda" else f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    print(f"\ntorch encoder on {encoder.device} ({'fp16' if encoder.device == 'cuda' else 'fp32'}; {name}), "
          f"{'encode_with_spans' if opts.spans else 'encode'}: {len(texts)} synthetic abstracts (mean {mean_tokens:.0f} "
          f"word pieces), batch {opts.batch_size}, {opts.repeats} repeats, load {load_s:.1f} s")
    print(f"abstracts/s: median {statistics.median(rates):.1f} (min {min(rates):.1f}, max {max(rates):.1f}); "
          f"cosine to fp32 CPU over {sample}: mean {cos.mean():.5f}, min {cos.min():.5f}")


if __name__ == "__main__":
    main()
