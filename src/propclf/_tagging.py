"""Tagging many inputs as a stream: read, segment, label in batches, yield one record per sentence."""

from __future__ import annotations

import os
import signal
import threading
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Any

from ._errors import ModelError, PropclfError
from ._inputs import ReadOptions, Source, TextUnit, expand_inputs, output_columns, read_table_heads, read_units
from ._labels import LABELS
from ._model import Model
from ._predict import ModelLike, TaggedRecord, TaggedSentence, _check_confidence, get_model, label_documents
from ._segment import Span, capped, independent_chunks, normalize, segment

__all__ = ["TaggedRecord", "TaggedRecords", "tag_files", "tag_sources", "tag_units", "count_units", "label_chunks",
           "TASK_CHARS"]


def tag_files(
    inputs: Iterable[str | Source],
    *,
    model: ModelLike = None,
    options: ReadOptions | None = None,
    explain: bool = False,
    min_confidence: float | None = None,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = 1,
) -> TaggedRecords:
    """Tag every sentence of text files, documents (HTML, PDF, Word), folders, tables and '-' (stdin),
    streaming, in input order: a ``TaggedRecords``, an iterator of ``TaggedRecord``.

    ``options`` says how to read (encoding, table columns...). ``warn`` receives one-line warnings
    (default: ignored); ``progress`` receives the number of input characters done, as they are done.
    ``jobs`` processes share the work (None: one per core); the records are the same, in the same
    order, whatever the number. Processes start only once there is more than one task's worth of text.
    Nothing is read until the records (or ``columns``) are asked for.
    """
    _check_confidence(min_confidence)
    return TaggedRecords(list(inputs), model, options or ReadOptions(), explain=explain,
                         min_confidence=min_confidence, warn=warn, progress=progress, jobs=jobs)


class TaggedRecords(Iterator[TaggedRecord]):
    """What ``tag_files`` returns: its records, one at a time, and what a writer needs before the first.

    ``inputs`` are the inputs' names with folders expanded into their files, ``tables`` those that are
    tables (.csv, .tsv, .jsonl), ``size`` their total size in bytes (None when one is standard input).
    ``columns`` are the CSV output's columns after propclf's own, as ``propclf predict`` writes them: the
    documents' ``page`` and ``extracted`` when documents are among the inputs, then every table's carried
    columns (``write_records`` writes them by itself). Reading them reads each table's head.
    """

    def __init__(self, inputs: list[str | Source], model: ModelLike, options: ReadOptions, *, explain: bool,
                 min_confidence: float | None, warn: Callable[[str], None] | None,
                 progress: Callable[[int], None] | None, jobs: int | None) -> None:
        self._inputs, self._model, self._options = inputs, model, options
        self._settings = {"explain": explain, "min_confidence": min_confidence, "warn": warn, "progress": progress,
                          "jobs": jobs}
        self._columns: list[str] = []
        self._opened: dict[str, Iterator[TextUnit]] = {}
        self._records: Any = None  # the generator of tag_sources, once started

    @cached_property
    def _sources(self) -> list[Source]:
        """The expanded inputs (a missing one raises InputError here)."""
        return expand_inputs(self._inputs, self._options.glob)

    @property
    def inputs(self) -> list[str]:
        return [source.name for source in self._sources]

    @property
    def tables(self) -> list[str]:
        return [source.name for source in self._sources if source.is_table]

    @property
    def size(self) -> int | None:
        sizes = [source.size() for source in self._sources]
        return sum(size for size in sizes if size is not None) if None not in sizes else None

    @property
    def columns(self) -> list[str]:
        self._start()
        return self._columns

    def _start(self) -> Iterator[TaggedRecord]:
        if self._records is None:
            sources = self._sources
            model = get_model(self._model)
            # The CSV header needs every table's columns first; they come from the reader of its rows.
            carried, self._opened = read_table_heads(sources, self._options,
                                                     self._settings["warn"] or (lambda _: None))
            self._columns = output_columns(sources, carried)
            self._records = tag_sources(sources, model, self._options, opened=self._opened, **self._settings)
        return self._records

    def __next__(self) -> TaggedRecord:
        return next(self._start())

    def close(self) -> None:
        """Stop early: close the inputs still open (and the worker processes)."""
        if self._records is not None:
            self._records.close()
        for units in self._opened.values():  # tables kept open at their first row, not reached yet
            units.close()


def tag_sources(sources: list[Source], model: Model, options: ReadOptions, *, explain: bool = False,
                min_confidence: float | None = None, warn: Callable[[str], None] | None = None,
                progress: Callable[[int], None] | None = None, jobs: int | None = 1,
                opened: dict[str, Iterator[TextUnit]] | None = None) -> Iterator[TaggedRecord]:
    """``tag_files`` of expanded sources; ``opened`` holds the tables ``read_table_heads`` kept open."""
    said = warn or (lambda _: None)
    units = (unit for source in sources for unit in read_units(source, options, said, opened))
    yield from tag_units(units, model, explain=explain, min_confidence=min_confidence, progress=progress, jobs=jobs)


def tag_units(units: Iterable[TextUnit], model: Model, *, explain: bool = False, min_confidence: float | None = None,
              progress: Callable[[int], None] | None = None, jobs: int | None = 1) -> Iterator[TaggedRecord]:
    """The records of units already read (from files, or built from a DataFrame's rows), in order."""
    tasks = _tasks(units)
    settings = (explain, min_confidence)
    counted = progress or (lambda _: None)
    current, index = None, 0
    for task, labeled in _run(tasks, model, settings, jobs):
        for (unit, chunk), sentences in zip(task, labeled):
            if unit is not current:
                current, index = unit, 0
            for sentence in sentences:
                # A worker's plain row becomes a sentence here, numbered in its unit at once.
                tagged = _sentence(sentence, index) if type(sentence) is tuple else _renumbered(sentence, index)
                # A sentence's page is known: the pieces up to its chunk's end have been read.
                page = bisect_right(unit.pages, tagged.start) if unit.pages is not None else None
                yield TaggedRecord(unit.source, tagged, unit.row, unit.id, unit.fields, page, unit.extracted)
                index += 1
            counted(len(chunk.text))


def count_units(units: Iterable[TextUnit]) -> tuple[int, int]:
    """The characters and sentences ``tag_units`` finds in ``units``, without labeling them."""
    chars = sentences = 0
    for task in _tasks(units):
        for _, chunk in task:
            chars += len(chunk.text)
            sentences += len(_spans(chunk))
    return chars, sentences


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Text of one unit that is segmented on its own; ``offset`` is where it starts in the unit."""

    text: str
    offset: int
    is_sentence: bool


#: Characters of input per task: large enough to amortise, small enough to bound memory.
TASK_CHARS = 1 << 18


def _tasks(units: Iterable[TextUnit]) -> Iterator[list[tuple[TextUnit, _Chunk]]]:
    """Group the chunks of all units into tasks of about TASK_CHARS characters, in input order."""
    task: list[tuple[TextUnit, _Chunk]] = []
    size = 0
    for unit in units:
        if unit.is_sentence:  # longer than MAX_SENTENCE_CHARS, it is cut as segment() cuts a run-on
            text = "".join(unit.pieces)
            chunks: Iterable[_Chunk] = (_Chunk(text[start:end], start, True) for start, end in capped(text)
                                        if not text[start:end].isspace())
        else:
            chunks = (_Chunk(text, offset, False) for offset, text in independent_chunks(unit.pieces, TASK_CHARS))
        for chunk in chunks:
            task.append((unit, chunk))
            size += len(chunk.text)
            if size >= TASK_CHARS:
                yield task
                task, size = [], 0
    if task:
        yield task


def _run(tasks: Iterator[list[tuple[TextUnit, _Chunk]]], model: Model, settings: tuple[bool, float | None],
         jobs: int | None) -> Iterator[tuple[list[tuple[TextUnit, _Chunk]], list[list[TaggedSentence | tuple]]]]:
    """Label every task, in order: here, or in ``jobs`` worker processes (only the chunks travel there, and
    plain rows back)."""
    jobs = jobs or _cores()
    first = next(tasks, None)
    second = next(tasks, None) if jobs > 1 else None
    if second is not None and not os.environ.get("PROPCLF_EXACT_JOBS"):
        jobs = _worker_count(jobs, _idle_cores())  # enough text for workers: one per idle core, at most ``jobs``
    if second is None or jobs == 1:  # a single task, or one job: no processes to start
        for task in chain([t for t in (first, second) if t is not None], tasks):
            yield task, label_chunks([chunk for _, chunk in task], model, *settings)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pending: deque[tuple[list[tuple[TextUnit, _Chunk]], Any]] = deque()
    with ProcessPoolExecutor(jobs, multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(_shipped(model), settings, os.getpid())) as pool:
        try:
            for task in chain((first, second), tasks):
                # Workers are spawned in here: they start with Ctrl-C held back, one thread per numerical library.
                with _sigint_held(), _one_thread_each():
                    future = pool.submit(_work, [chunk for _, chunk in task])
                pending.append((task, future))
                if len(pending) >= 2 * jobs:  # bounded: a few tasks ahead, not the whole input
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        except BaseException:  # Ctrl-C, an error, or the consumer stopped: drop the queued tasks
            pool.shutdown(wait=True, cancel_futures=True)
            raise


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back, not lose it: it takes effect when the block ends, and a process spawned in
    the block never sees it.

    The spawned process inherits the main thread's signal mask, so its Ctrl-C waits until it ignores
    Ctrl-C (see _start_worker). Here, other threads (NumPy's BLAS among them) may still catch the
    signal, so the Python handler only notes it until the block ends. Interrupting the spawn itself
    would leave a half-started worker that the pool waits for forever.
    """
    if (threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask")
            or signal.getsignal(signal.SIGINT) is None):  # not ours to replace: a handler set outside Python
        yield
        return
    caught: list[int] = []
    handler = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl-C held by the mask is noted now
        signal.signal(signal.SIGINT, handler)
        if caught:
            signal.raise_signal(signal.SIGINT)  # as if it came now: KeyboardInterrupt, or what the handler does


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: How long the idle cores are watched before workers are started.
IDLE_SAMPLE_SECONDS = 0.1


def _idle_cores() -> float | None:
    """How many cores the machine left idle over a short look (Linux's /proc/stat); None where it cannot tell."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(value) for value in handle.readline().split()[1:9]]
        return values[3] + values[4], sum(values)  # idle and waiting for I/O, of all time spent

    try:
        idle_before, total_before = sample()
        time.sleep(IDLE_SAMPLE_SECONDS)
        idle_after, total_after = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total_after <= total_before:
        return None
    return (idle_after - idle_before) / (total_after - total_before) * (os.cpu_count() or 1)


def _worker_count(jobs: int, idle: float | None) -> int:
    """At most ``jobs`` workers, one per idle core: a worker on a busy core only slows the others (and the
    parent, which reads and writes) down, so one job in this process is then faster."""
    if idle is None:
        return jobs
    return max(1, min(jobs, int(idle + 0.5)))


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@contextmanager
def _one_thread_each() -> Iterator[None]:
    """Processes started in this block run their numerical libraries on one thread each (unless the user
    said otherwise): the workers already share out the cores."""
    added = [name for name in _THREAD_VARIABLES if name not in os.environ]
    os.environ.update(dict.fromkeys(added, "1"))
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


_worker: dict[str, Any] = {}


def _shipped(model: Model) -> Model | tuple[str, dict[str, Any]]:
    """What a worker gets of the model: a plain model's folder and file hashes, which each worker reads
    itself (pickling the model's data to every worker cost the parent more than a worker's whole start);
    any other model (a pipeline, one made in memory) as itself."""
    from ._plain import PlainScorer

    files = model.manifest.get("files")
    if model.pipeline is None and isinstance(model.scorer, PlainScorer) and model.path is not None and files:
        return str(model.path.parent), files
    return model


def _received(model: Model | tuple[str, dict[str, Any]]) -> Model:
    if isinstance(model, Model):
        return model
    from ._model import load_model

    folder, files = model
    loaded = load_model(folder)
    if loaded.manifest.get("files") != files:
        raise ModelError(f"{folder}: the model changed while it was being used; run again")
    return loaded


def _start_worker(model: Model | tuple[str, dict[str, Any]], settings: tuple[bool, float | None],
                  parent: int) -> None:
    # Ctrl-C is for the parent, which stops the run and says so once; a worker's traceback would be noise.
    # A Ctrl-C held back since the spawn is discarded here, as the signal becomes ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        _worker.update(model=_received(model), settings=settings)
    except PropclfError as exc:  # raised with the first task, so that the parent shows it as one line
        _worker.update(error=exc)
    # A worker whose parent was killed would wait forever to send its result back: leave instead.
    # The parent's pid comes from the parent: if it is already gone, os.getppid() is someone else's.
    threading.Thread(target=_exit_without, args=(parent,), daemon=True).start()


def _exit_without(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _work(chunks: list[_Chunk]) -> list[list[tuple]]:
    if "error" in _worker:
        raise _worker["error"]
    # Plain tuples travel back: pickling them costs a quarter of pickling the dataclasses.
    return [[(s.index, s.start, s.end, s.text, s.label, tuple(s.probabilities.values()), s.fragments, s.explanation)
             for s in sentences] for sentences in label_chunks(chunks, _worker["model"], *_worker["settings"])]


def _sentence(row: tuple, index: int) -> TaggedSentence:
    _, start, end, text, label, probabilities, fragments, explanation = row
    return TaggedSentence(index, start, end, text, label, dict(zip(LABELS, probabilities)), fragments, explanation)


def label_chunks(chunks: list[_Chunk], model: Model, explain: bool,
                 min_confidence: float | None) -> list[list[TaggedSentence]]:
    """Segment and label chunks in one model call; offsets are into each chunk's unit, indexes count
    from 0 in each chunk."""
    return label_documents([(chunk.text, _spans(chunk), chunk.offset) for chunk in chunks], model,
                           explain=explain, min_confidence=min_confidence)


def _spans(chunk: _Chunk) -> list[Span]:
    if chunk.is_sentence:
        start = len(chunk.text) - len(chunk.text.lstrip())
        return [Span(start, len(chunk.text.rstrip()), normalize(chunk.text))]
    return segment(chunk.text)


def _renumbered(sentence: TaggedSentence, index: int) -> TaggedSentence:
    if sentence.index == index:
        return sentence
    return TaggedSentence(index, sentence.start, sentence.end, sentence.text, sentence.label, sentence.probabilities,
                          sentence.fragments, sentence.explanation)
