"""Question answering over research-paper abstracts with verified citations.

The data flows one way, one module per arrow:
corpus files -> `Paper` records (corpus) -> chunks (chunking) -> embeddings (embed) ->
Chroma + BM25 (vectorstore, bm25, index) -> ranked papers (retrieve) -> answer with
citations (extractive, pipeline) -> CLI (cli).
"""
