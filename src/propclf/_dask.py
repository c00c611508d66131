"""The distributed engine: tag many or large inputs on a dask cluster, one output file per partition.

    from propclf._dask import tag_with_dask
    tag_with_dask(["archive/"], "tags/", scheduler="tcp://10.0.0.5:8786")   # tags/part-00000.csv, ...

How the work is cut:

* every input file is a partition, except a text file larger than ``partition_mb``, which is cut
  into byte ranges of about that size. A range ends after a blank line that closes a paragraph
  ending in a sentence mark, before a line that starts with a capital or a digit (the place where
  ``propclf._segment.independent_chunks`` also cuts): segmentation never looks across such a line,
  so each range can be segmented apart and no sentence is cut. A file with no such place is not cut;
* the workers read the files themselves (from storage they share with the client); the client only
  lists the inputs and reads table headers. The model is loaded once on the client and broadcast to
  every worker once;
* character offsets and sentence numbers are those of the whole file, as the local engine gives
  them: for a cut file, a first cheap pass counts the characters and sentences of each range
  (decoding and segmenting, no labeling), then the ranges are tagged knowing where they start;
* each partition is written by its worker to ``DIR/part-NNNNN.<format>``, atomically, in input
  order: the CSV parts, concatenated without their repeated headers, are the local engine's
  ``--format csv`` output row for row (JSONL parts: its ``--format jsonl`` output).

dask and distributed are imported only here, inside the functions: ``pip install 'propclf[dask]'``.
"""

from __future__ import annotations

import os
import uuid
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from ._columns import BASE_COLUMNS
from ._errors import InputError, PropclfError
from ._inputs import (
    ReadOptions,
    ReadTally,
    Source,
    TextUnit,
    decoded_pieces,
    decoder_name,
    expand_inputs,
    output_columns,
    output_name,
    read_table_heads,
)
from ._labels import LABELS
from ._outputs import column_value, csv_columns
from ._predict import ModelLike, _check_confidence, get_model
from ._segment import _paragraph_cut
from ._tagging import TaggedRecord, _cores, count_units, tag_sources, tag_units
from ._textio import atomic_writer, read_blocks

__all__ = ["DaskResult", "tag_with_dask", "PART_FORMATS"]

#: Output formats of the parts (one file per partition).
PART_FORMATS = ("csv", "jsonl", "parquet")
#: Context read before a target cut (the forward search for a cut goes a block of ``read_blocks`` at a time).
LOOKBEHIND_BYTES = 1 << 16
#: Records per Parquet row group.
PARQUET_ROWS = 50_000
#: Seconds to wait for a scheduler to answer, and for its first worker(s) to join.
CONNECT_SECONDS = 10
WORKERS_SECONDS = 60


@dataclass(frozen=True)
class DaskResult:
    """What a run wrote: the output folder, its part files in order, and what they hold."""

    output: Path
    parts: list[Path]
    sentences: int
    inputs: int
    counts: Counter[str] = field(default_factory=Counter)  # sentences per label


def tag_with_dask(
    inputs: Iterable[str],
    output_dir: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    model: ModelLike = None,
    options: ReadOptions | None = None,
    output_format: str = "csv",
    min_confidence: float | None = None,
    explain: bool = False,
    partition_mb: float = 64,
    extra_columns: list[str] | None = None,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DaskResult:
    """Tag every sentence of ``inputs`` on a dask cluster into ``output_dir``/part-NNNNN.<format>.

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``), whose workers must
    have propclf installed and see the inputs and ``output_dir`` at the same paths as this process;
    without it, a local cluster of ``workers`` processes (default: one per core) is started and
    stopped. With a scheduler, ``workers`` is how many workers to wait for (default 1).
    ``output_format`` is csv, jsonl or parquet; ``explain`` matters for jsonl only (the other
    formats have no explanation column). ``extra_columns`` are the carried-through columns of table
    inputs (default: from the tables' headers, as the command line does). ``warn`` receives one-line
    warnings, in input order, at the end; ``progress`` the input bytes of each partition done.

    ``output_dir`` must be empty or absent. Every error is a PropclfError with a one-line message,
    the same as the local engine's for the same input; on error, the parts written are removed.
    """
    _check_confidence(min_confidence)
    if output_format not in PART_FORMATS:
        raise ValueError(f"unknown format {output_format!r} (expected one of {', '.join(PART_FORMATS)})")
    if not partition_mb > 0:
        raise ValueError(f"partition_mb must be positive, got {partition_mb}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    options = options or ReadOptions()
    sources = expand_inputs(inputs, options.glob)
    for source in sources:
        if source.path is None:
            raise InputError("-: dask workers cannot read standard input; save it to a file first")
    _require_dask()
    if output_format == "parquet":
        _require_pyarrow()
    resolved = get_model(model)
    columns = extra_columns if extra_columns is not None else output_columns(sources, _table_heads(sources, options))
    out = Path(output_dir)
    created = _prepare_output(out)
    job = _Job(options, str(out.absolute()), output_format, list(columns), explain and output_format == "jsonl",
               min_confidence)
    run = _Run(sources, job, int(max(1, partition_mb * 1_000_000)))
    try:
        with _client(scheduler, workers) as client:
            run.execute(client, resolved, progress or (lambda _: None))
    except BaseException:
        run.remove_parts(out, created)
        raise
    finally:
        for message in run.warnings():
            (warn or (lambda _: None))(message)
    return DaskResult(out, [out / name for name in run.part_names()], run.sentences, len(sources), run.counts)


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise PropclfError("the dask engine needs dask and distributed: pip install 'propclf[dask]'") from None


def _require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise PropclfError("Parquet output needs pyarrow: pip install 'propclf[dask]'") from None


def _prepare_output(out: Path) -> bool:
    """Make sure ``out`` is an empty folder; return whether it was created."""
    if out.exists():
        if not out.is_dir():
            raise InputError(f"{out}: exists and is not a folder; the dask engine writes a folder of parts")
        if any(out.iterdir()):
            raise InputError(f"{out}: output folder is not empty; remove it or choose another")
        return False
    try:
        out.mkdir(parents=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
    return True


def _table_heads(sources: list[Source], options: ReadOptions) -> list[str]:
    """The tables' carried columns, read as the local engine reads them (its warnings come from the workers)."""
    columns, opened = read_table_heads(sources, options, lambda _: None)
    for units in opened.values():  # the workers read every table again, from its path
        units.close()
    return columns


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A dask Client: to ``scheduler``, or to a local cluster that lives as long as the block."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler is None:
        try:
            cluster = LocalCluster(n_workers=workers or _cores(), threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
        except (OSError, TimeoutError) as exc:
            raise PropclfError(f"cannot start a local dask cluster ({exc})") from None
        with cluster, Client(cluster, set_as_default=False) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise PropclfError(f"cannot connect to the dask scheduler at {scheduler} ({exc})") from None
    with client:
        try:
            client.wait_for_workers(workers or 1, timeout=WORKERS_SECONDS)
        except TimeoutError:
            raise PropclfError(f"{scheduler}: fewer than {workers or 1} dask worker(s) joined within "
                               f"{WORKERS_SECONDS} s") from None
        yield client


# --- The plan: partitions, and the client's side of a run ------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """What every tagging task needs besides its partition and the model."""

    options: ReadOptions
    folder: str
    output_format: str
    columns: list[str]
    explain: bool
    min_confidence: float | None


@dataclass(frozen=True)
class _Part:
    """One partition: a whole file (``end`` None), or the byte range [start, end) of a text file."""

    name: str  # the input as named by the user, shown in the output and in messages
    path: str  # absolute, for the workers
    source: int  # index of the input
    range: int  # index of the range in the file (0 for a whole file)
    size: int  # bytes of the partition
    start: int = 0
    end: int | None = None
    number: int = 0  # the part file's number
    chars: int = 0  # characters of the file before ``start``
    sentences: int = 0  # sentences of the file before ``start``
    in_folder: bool = False  # see Source.in_folder

    @property
    def order(self) -> tuple[int, int]:
        return self.source, self.range


@dataclass
class _Failed:
    """A task's expected error, returned rather than raised (a raised one would log a traceback on the worker)."""

    error: PropclfError


class _Run:
    """The client's side of one run: planning, submitting in dependency order, and collecting."""

    def __init__(self, sources: list[Source], job: _Job, partition_bytes: int) -> None:
        self.sources, self.job, self.partition_bytes = list(sources), job, partition_bytes
        self.parts: list[_Part] = []
        self.done: dict[int, dict[str, Any]] = {}  # part number -> its task's report
        self.errors: dict[tuple[int, int], PropclfError] = {}
        self.futures: dict[Any, tuple[str, _Part]] = {}  # submitted and not yet collected -> (kind, partition)
        self.sentences, self.counts = 0, Counter[str]()
        self.token = uuid.uuid4().hex[:12]

    def execute(self, client: Any, model: Any, progress: Callable[[int], None]) -> None:
        from distributed import as_completed

        self.client = client
        ranges = self._plan()
        self._number(ranges)
        [model_future] = client.scatter([model], broadcast=True, hash=False)
        self.model = model_future
        self.pending = as_completed(loop=client.loop)
        counts: dict[int, dict[int, tuple[int, int]]] = {}  # source -> range -> (chars, sentences)
        by_source: dict[int, list[_Part]] = {}
        for part in self.parts:
            by_source.setdefault(part.source, []).append(part)
        for source, parts in by_source.items():
            self._submit("tag", parts[0])
            if len(parts) > 1:
                counts[source] = {}
                for part in parts[:-1]:
                    self._submit("count", part)
        for future in self.pending:
            kind, part = self.futures.pop(future)
            report = self._outcome(future, part)
            if report is None:
                continue
            if kind == "count":
                counts[part.source][part.range] = report["counts"]
                parts = by_source[part.source]
                if len(counts[part.source]) == len(parts) - 1:
                    self._tag_ranges(parts, counts.pop(part.source))
            else:
                self.done[part.number] = report
                self.sentences += report["sentences"]
                self.counts.update(report["labels"])
                progress(report["bytes"])
        if self.errors:
            error = self.errors[min(self.errors)]
            raise type(error)(str(error)) from None

    def _plan(self) -> dict[int, list[int]]:
        """Where each large text file is cut (byte offsets), by one task per file on the workers."""
        futures = {}
        for index, source in enumerate(self.sources):
            size = source.size() or 0
            if (not source.is_table and source.document is None and size > self.partition_bytes
                    and _splittable(self.job.options.encoding)):
                futures[index] = self.client.submit(
                    _plan_task, source.name, str(Path(source.name).absolute()), size, self.partition_bytes,
                    self.job.options.encoding, pure=False, key=f"propclf-plan-{index}-{self.token}")
        cuts: dict[int, list[int]] = {}
        for index, future in futures.items():
            result = self._outcome(future, None, (index, -1))
            if result is None:  # the local engine stops at a bad input: nothing from it on is tagged
                del self.sources[index:]
                break
            cuts[index] = result
        for future in futures.values():
            future.cancel()
        return cuts

    def _number(self, cuts: dict[int, list[int]]) -> None:
        for index, source in enumerate(self.sources):
            path = str(Path(source.name).absolute())
            bounds = cuts.get(index, [])
            if not bounds:
                self.parts.append(_Part(source.name, path, index, 0, source.size() or 0, number=len(self.parts),
                                        in_folder=source.in_folder))
                continue
            starts, ends = [0, *bounds], [*bounds, source.size() or 0]
            for number, (start, end) in enumerate(zip(starts, ends)):
                self.parts.append(_Part(source.name, path, index, number, end - start, start, end,
                                        number=len(self.parts)))
        self.width = max(5, len(str(len(self.parts) - 1)))

    def _tag_ranges(self, parts: list[_Part], counts: dict[int, tuple[int, int]]) -> None:
        chars = sentences = 0
        for part in parts[1:]:
            before_chars, before_sentences = counts[part.range - 1]
            chars, sentences = chars + before_chars, sentences + before_sentences
            if part.order < min(self.errors, default=(len(self.sources), 0)):
                self._submit("tag", replace(part, chars=chars, sentences=sentences))

    def _submit(self, kind: str, part: _Part) -> None:
        if kind == "count":
            future = self.client.submit(_count_task, part, self.job.options, pure=False, priority=1 << 40,
                                        key=f"propclf-count-{part.number}-{self.token}")
        else:
            # Larger partitions first: the last ones to finish are then the small ones.
            future = self.client.submit(_tag_task, part, self.part_name(part), self.model, self.job, pure=False,
                                        priority=part.size >> 16, key=f"propclf-tag-{part.number}-{self.token}")
        self.futures[future] = (kind, part)
        self.pending.add(future)

    def _outcome(self, future: Any, part: _Part | None, order: tuple[int, int] | None = None) -> Any:
        """The result of a finished task, or None after recording its error (or if it was cancelled)."""
        from distributed import KilledWorker

        order = order or (part.order if part is not None else (0, 0))
        if future.status == "cancelled":
            return None
        try:
            result = future.result()
        except KilledWorker:
            name = part.name if part is not None else self.sources[order[0]].name
            result = _Failed(PropclfError(f"{name}: the dask worker tagging it died (out of memory?)"))
        if not isinstance(result, _Failed):
            return result
        self.errors[order] = result.error
        # The local engine stops at the first bad input: what comes after it is not needed.
        for other, (_, later) in list(self.futures.items()):
            if later.order > order:
                other.cancel()
        return None

    def part_name(self, part: _Part) -> str:
        return f"part-{part.number:0{self.width}d}.{self.job.output_format}"

    def part_names(self) -> list[str]:
        return [self.part_name(part) for part in self.parts]

    def warnings(self) -> Iterator[str]:
        """The tasks' warnings in input order; what the ranges of a cut file found is one file's warnings."""
        found: dict[int, ReadTally] = {}
        for part in self.parts:
            report = self.done.get(part.number)
            if report is None:
                continue
            yield from report["warnings"]
            if report["tally"] is not None:
                found.setdefault(part.source, ReadTally()).add(report["tally"])
            last = part.number + 1 == len(self.parts) or self.parts[part.number + 1].source != part.source
            if last and part.source in found:
                yield from found.pop(part.source).warnings(part.name)

    def remove_parts(self, out: Path, created: bool) -> None:
        """After a failed run: remove what it wrote (part files, temporary files) and a folder it made."""
        for name in self.part_names():
            (out / name).unlink(missing_ok=True)
        for leftover in out.glob(".part-*.tmp"):
            leftover.unlink(missing_ok=True)
        if created:
            try:
                out.rmdir()
            except OSError:
                pass  # something else is in it now; leave it


# --- The workers' side --------------------------------------------------------------------------------


def _renamed(error: PropclfError, path: str, name: str) -> PropclfError:
    """The error with the absolute path the worker used replaced by the input's name, as the user gave it."""
    message = str(error)
    if path != name and message.startswith(path):
        return type(error)(name + message[len(path):])
    return type(error)(message)


@contextmanager
def _reported(path: str, name: str, writing: str | None = None) -> Iterator[None]:
    """Turn the task's errors into a _Report of a one-line PropclfError naming the input (or the part).

    Reading errors are InputErrors already; an OSError left is about writing ``writing``.
    """
    try:
        yield
    except PropclfError as exc:
        raise _Report(_renamed(exc, path, name)) from None
    except OSError as exc:
        where, verb = (writing, "cannot write") if writing is not None else (name, "cannot read")
        raise _Report(InputError(f"{where}: {verb} ({exc.strerror or exc})")) from None


class _Report(Exception):
    def __init__(self, error: PropclfError) -> None:
        super().__init__(str(error))
        self.error = error


def _plan_task(name: str, path: str, size: int, partition_bytes: int, encoding: str) -> list[int] | _Failed:
    try:
        with _reported(path, name):
            return plan_cuts(path, size, partition_bytes, encoding)
    except _Report as report:
        return _Failed(report.error)


def _count_task(part: _Part, options: ReadOptions) -> dict[str, Any] | _Failed:
    """Characters and sentences of a range, as tagging it would find them."""
    try:
        with _reported(part.path, part.name):
            return {"counts": count_units([_range_unit(part, options, ReadTally())])}
    except _Report as report:
        return _Failed(report.error)


def _tag_task(part: _Part, part_name: str, model: Any, job: _Job) -> dict[str, Any] | _Failed:
    """Tag one partition and write its part file; report what was written."""
    target = os.path.join(job.folder, part_name)
    warnings: list[str] = []
    tally = None if part.end is None else ReadTally()  # a range's warnings are its file's: the client says them
    try:
        with _reported(part.path, part.name, target):
            if tally is None:  # a whole file
                # Named as the user named it (in rows, messages, --keep-text), read at the absolute path.
                source = Source(part.name, Path(part.path), in_folder=part.in_folder)
                records = tag_sources([source], model, job.options, explain=job.explain,
                                      min_confidence=job.min_confidence, warn=warnings.append)
            else:
                records = _shifted(tag_units([_range_unit(part, job.options, tally)], model, explain=job.explain,
                                             min_confidence=job.min_confidence), part.chars, part.sentences)
            labels = _write_part(records, target, job)
    except _Report as report:
        return _Failed(report.error)
    return {"sentences": sum(labels.values()), "labels": labels, "warnings": warnings, "tally": tally,
            "bytes": part.size}


def _range_unit(part: _Part, options: ReadOptions, tally: ReadTally) -> TextUnit:
    """A range of a text file as the unit to tag, read as the local engine reads the whole file."""
    return TextUnit(output_name(part.name), decoded_pieces(part.path, part.name, options, tally, part.start, part.end))


def _shifted(records: Iterable[TaggedRecord], chars: int, sentences: int) -> Iterator[TaggedRecord]:
    """A range's records with offsets and sentence numbers counted from the file's start."""
    for record in records:
        s = record.sentence
        fragments = tuple(replace(f, start=f.start + chars, end=f.end + chars) for f in s.fragments)
        yield replace(record, sentence=replace(s, index=s.index + sentences, start=s.start + chars,
                                               end=s.end + chars, fragments=fragments))


def _splittable(encoding: str) -> bool:
    """Whether a file in ``encoding`` can be cut at any b'\\n': ASCII-compatible encodings without state."""
    name = decoder_name(encoding)
    return name in ("utf-8-sig", "utf-8", "ascii") or name.startswith(("iso8859", "cp125", "latin", "koi8", "mac-"))


# --- Where to cut a large file -----------------------------------------------------------------------------


def plan_cuts(path: str | os.PathLike[str], size: int, partition_bytes: int, encoding: str) -> list[int]:
    """Byte offsets where a text file can be cut into ranges of about ``partition_bytes`` or more.

    Each cut is at the start of a line that begins with a capital or a digit, after a blank line that
    follows a sentence mark: the rule of ``independent_chunks``, where segmentation never looks across.
    The last range is at least a quarter of ``partition_bytes``.
    """
    codec = "utf-8" if decoder_name(encoding) == "utf-8-sig" else decoder_name(encoding)
    cuts: list[int] = []
    target = partition_bytes
    while target < size - partition_bytes // 4:
        cut = _find_cut(path, target, size, codec)
        if cut is None:
            break
        cuts.append(cut)
        target = cut + partition_bytes
    return cuts


def _find_cut(path: str | os.PathLike[str], target: int, size: int, codec: str) -> int | None:
    """The first cut found at or after byte ``target``, searching forward a block at a time."""
    position = max(0, target - LOOKBEHIND_BYTES)
    data = b""
    for block in read_blocks(path, start=position):
        data += block
        at_end = position + len(data) >= size
        cut = _cut_in(data, position, target, at_end, codec)
        if cut is not None or at_end:
            return cut
        keep = min(len(data), LOOKBEHIND_BYTES)
        position += len(data) - keep
        data = data[len(data) - keep:]
    return None


def _cut_in(data: bytes, position: int, target: int, at_end: bool, codec: str) -> int | None:
    """A cut in ``data`` (which starts at byte ``position`` of the file) at or after ``target``, if any.

    Only whole lines are looked at: from the first line start in ``data`` to the last line end (or
    to the end of the file). They are decoded one by one, so each line's byte offset is known; the
    place is found by the rule ``independent_chunks`` cuts by.
    """
    begin = data.find(b"\n") + 1
    stop = len(data) if at_end else data.rfind(b"\n") + 1
    if begin == 0 or stop <= begin:
        return None
    line_bytes: list[int] = []
    line_chars: list[int] = []
    texts: list[str] = []
    chars, at = 0, begin
    while at < stop:
        newline = data.find(b"\n", at, stop)
        after = stop if newline < 0 else newline + 1
        text = data[at:after].decode(codec, "replace")
        line_bytes.append(at)
        line_chars.append(chars)
        texts.append(text)
        chars += len(text)
        at = after
    first = bisect_left(line_bytes, target - position)  # the first line that starts at or after the target
    if first == len(line_bytes):
        return None
    cut, _ = _paragraph_cut("".join(texts), line_chars[first])
    return None if cut is None else position + line_bytes[bisect_right(line_chars, cut) - 1]


# --- Writing a part ------------------------------------------------------------------------------------------


def _write_part(records: Iterable[TaggedRecord], target: str, job: _Job) -> Counter[str]:
    from ._outputs import write_records

    if job.output_format == "parquet":
        with atomic_writer(target, binary=True) as out:
            return _write_parquet(records, out, job.columns)
    with atomic_writer(target) as out:
        return write_records(records, out, job.output_format, extra_columns=job.columns)


def parquet_schema(columns: list[str]) -> Any:
    """The Parquet parts' columns: those of the CSV output, typed (p_* full precision; missing is null)."""
    import pyarrow as pa

    types = {"row": pa.int64(), "sentence": pa.int64(), "start": pa.int64(), "end": pa.int64(), "page": pa.int64(),
             **{f"p_{label}": pa.float64() for label in LABELS}}
    return pa.schema([(name, types.get(name, pa.string())) for name in csv_columns(columns)])


def _write_parquet(records: Iterable[TaggedRecord], out: BinaryIO, columns: list[str]) -> Counter[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(columns)
    carried = schema.names[len(BASE_COLUMNS):]
    counts: Counter[str] = Counter()
    batch: dict[str, list] = {name: [] for name in schema.names}
    with pq.ParquetWriter(out, schema) as writer:
        for number, record in enumerate(records, 1):
            s = record.sentence
            counts[s.label] += 1
            values = [record.source, record.row, record.id, s.index, s.start, s.end, s.text, s.label,
                      *(s.probabilities[label] for label in LABELS), *(column_value(record, c) for c in carried)]
            for name, value in zip(schema.names, values):
                batch[name].append(value)
            if number % PARQUET_ROWS == 0:
                writer.write_table(pa.table(batch, schema=schema))
                batch = {name: [] for name in schema.names}
        if batch["source"] or not counts:
            writer.write_table(pa.table(batch, schema=schema))
    return counts
