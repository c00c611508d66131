"""Writing tagged records: a table to read, CSV and JSONL for other tools, a self-contained HTML report.

Every writer streams: it writes each record (or each document, for the table and HTML) as it comes.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import chain, groupby
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ._columns import BASE_COLUMNS, DOCUMENT_COLUMNS
from ._inputs import refuse_input_as_output
from ._labels import LABEL_NAMES, LABELS, UNCERTAIN
from ._textio import atomic_writer

if TYPE_CHECKING:  # (the records' types only: _predict shows a document with html_fragment)
    from ._predict import TaggedRecord
    from ._tagging import TaggedRecords

__all__ = ["FORMATS", "format_for", "csv_columns", "column_value", "write_records", "html_fragment"]

FORMATS = ("table", "csv", "jsonl", "html")
COLOURS = {"slogan": "#f4a6a6", "critique": "#9cc7f0", "neutral": "#e8e8e0", UNCERTAIN: "#f3e19b"}


#: The output format of a file name's extension.
SUFFIX_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".html": "html", ".htm": "html",
                  ".txt": "table"}


def format_for(path: str | os.PathLike[str]) -> str | None:
    """The output format a file name asks for by its extension: ``csv``, ``jsonl`` (.jsonl, .ndjson), ``html``
    (.html, .htm) or ``table`` (.txt); None for any other name."""
    return SUFFIX_FORMATS.get(Path(path).suffix.lower())


def write_records(records: Iterable[TaggedRecord], out: TextIO | str | os.PathLike[str],
                  output_format: str | None = None, extra_columns: list[str] | None = None) -> Counter[str]:
    """Write records to ``out`` in ``output_format`` (one of FORMATS); return the count of each label written.

    ``out`` is an open text stream, or a file name: the file is written atomically (it appears only when
    complete), its format is its extension's when ``output_format`` is None (see ``format_for``), and it
    must not be one of the inputs of ``tag_files`` records (InputError). ``extra_columns`` (CSV only) are the
    columns after propclf's own, in order: by default the records' own ``columns`` (see ``TaggedRecords``),
    so that a table's carried columns are written as ``propclf predict`` writes them.
    """
    if output_format is None:
        if isinstance(out, str | os.PathLike) and (output_format := format_for(out)) is None:
            raise ValueError(f"{out}: no output format has the extension {Path(out).suffix!r}; give output_format")
        if output_format is None:
            raise ValueError("write_records() to a stream needs output_format")
    if output_format not in FORMATS:
        raise ValueError(f"unknown format {output_format!r} (expected one of {', '.join(FORMATS)})")
    # What tag_files returns (TaggedRecords) knows its inputs and its tables' columns.
    tagged = records if hasattr(records, "inputs") and hasattr(records, "columns") else None
    if not isinstance(out, str | os.PathLike):
        return _write(records, out, output_format, extra_columns, tagged)
    if tagged is not None:
        refuse_input_as_output(out, tagged._sources)  # (the inputs as found, with their paths)
        # Reading the columns reads the model and the tables' heads: their errors come before the file's.
        columns = tagged.columns
        extra_columns = columns if extra_columns is None else extra_columns
    with atomic_writer(out) as handle:
        return _write(records, handle, output_format, extra_columns, tagged)


def _write(records: Iterable[TaggedRecord], out: TextIO, output_format: str, extra_columns: list[str] | None,
           tagged: TaggedRecords | None) -> Counter[str]:
    counts: Counter[str] = Counter()
    # Read (and so validate) the first input before writing anything: a bad first file must not
    # leave a CSV header or half a page behind on standard output.
    iterator = iter(records)
    first = next(iterator, None)
    counted = _count(chain([first], iterator) if first is not None else iterator, counts)
    if output_format == "csv":
        columns = extra_columns if extra_columns is not None else tagged.columns if tagged is not None else []
        _write_csv(counted, out, columns)
    elif output_format == "jsonl":
        _write_jsonl(counted, out)
    elif output_format == "table":
        _write_table(counted, out)
    else:
        _write_html(counted, out)
    return counts


def column_value(record: TaggedRecord, column: str) -> object:
    """A record's value in a column after BASE_COLUMNS (None when it has none)."""
    if column in DOCUMENT_COLUMNS and getattr(record, column) is not None:
        return getattr(record, column)
    return record.fields.get(column)


def _count(records: Iterable[TaggedRecord], counts: Counter[str]) -> Iterator[TaggedRecord]:
    for record in records:
        counts[record.sentence.label] += 1
        yield record


def _documents(records: Iterable[TaggedRecord]) -> Iterator[tuple[TaggedRecord, list[TaggedRecord]]]:
    """Group consecutive records of the same input unit (a file, or a table row)."""
    for _, group in groupby(records, key=lambda r: (r.source, r.row)):
        items = list(group)
        yield items[0], items


def _where(record: TaggedRecord) -> str:
    if record.row is None:
        return record.source
    return f"{record.source}, row {record.row}" + (f" ({record.id})" if record.id is not None else "")


def csv_columns(extra_columns: Iterable[str]) -> list[str]:
    """The columns of the CSV output (and of the Dask engine's Parquet parts): BASE_COLUMNS, then ``extra_columns``."""
    carried = list(extra_columns)
    if set(carried) & set(BASE_COLUMNS):
        raise ValueError(f"extra_columns {sorted(set(carried) & set(BASE_COLUMNS))} are propclf's own columns")
    return [*BASE_COLUMNS, *carried]


def _write_csv(records: Iterable[TaggedRecord], out: TextIO, extra_columns: list[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    carried = list(extra_columns)
    writer.writerow(csv_columns(carried))
    # One writerows call over a generator, the probabilities picked and formatted by C functions: this loop
    # runs once per sentence.
    probabilities, four_places = itemgetter(*LABELS), "{:.4f}".format
    writer.writerows(
        [record.source, "" if record.row is None else record.row, "" if record.id is None else record.id,
         (s := record.sentence).index, s.start, s.end, s.text, s.label,
         *map(four_places, probabilities(s.probabilities)),
         *(("" if (value := column_value(record, column)) is None else value for column in carried) if carried else ())]
        for record in records)


def record_dict(record: TaggedRecord) -> dict[str, object]:
    """The JSON object of one record (also the shape of the HTML report's data)."""
    s = record.sentence
    row: dict[str, object] = {"source": record.source}
    if record.row is not None:
        row["row"] = record.row
    if record.id is not None:
        row["id"] = record.id
    if record.extracted is not None:
        row["extracted"] = record.extracted
    if record.page is not None:
        row["page"] = record.page
    row.update({"sentence": s.index, "start": s.start, "end": s.end, "text": s.text, "label": s.label,
                "probabilities": {k: round(v, 6) for k, v in s.probabilities.items()},
                "fragments": [{"start": f.start, "end": f.end, "text": f.text, "label": f.label,
                               "probabilities": {k: round(v, 6) for k, v in f.probabilities.items()}}
                              for f in s.fragments]})
    if s.explanation is not None:
        row["explanation"] = [[name, weight] for name, weight in s.explanation]
    row.update(record.fields)  # never one of the names above (see _inputs.carried_names)
    return row


def _write_jsonl(records: Iterable[TaggedRecord], out: TextIO) -> None:
    for record in records:
        out.write(json.dumps(record_dict(record), ensure_ascii=False) + "\n")


def _write_table(records: Iterable[TaggedRecord], out: TextIO) -> None:
    width = max(60, shutil.get_terminal_size((120, 24)).columns)
    header = f"{'#':>4}  {'label':<10}" + "".join(f"{label:>9}" for label in LABELS) + "  text"
    room = width - len(header) + len("text")
    for number, (first, items) in enumerate(_documents(records)):
        if number:
            out.write("\n")
        counts = Counter(r.sentence.label for r in items)
        summary = ", ".join(f"{counts[label]} {label}" for label in (*LABELS, UNCERTAIN) if counts[label] or
                            label != UNCERTAIN)
        out.write(f"{_where(first)}: {len(items)} sentence{'' if len(items) == 1 else 's'} ({summary})\n{header}\n")
        for record in items:
            s = record.sentence
            text = s.text if len(s.text) <= room else s.text[:room - 1] + "…"
            probabilities = "".join(f"{s.probabilities[label]:>9.2f}" for label in LABELS)
            out.write(f"{s.index:>4}  {s.label:<10}{probabilities}  {text}\n")


_STYLE = """
body{font:16px/1.6 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:1em 2em;background:#fff;border-bottom:1px solid #ddd;position:sticky;top:0;z-index:1}
h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.05em;margin:0 0 .2em;word-break:break-all}
main{display:flex;gap:2em;padding:1em 2em}#docs{flex:3;min-width:0}
aside{flex:1;min-width:16em;position:sticky;top:7em;align-self:flex-start;background:#fff;border:1px solid #ddd;
border-radius:6px;padding:1em;font-size:14px}
.doc{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1em 1.5em;margin-bottom:1.5em}
.counts{color:#555;font-size:14px;margin:0 0 .8em}
.fields{color:#555;font-size:14px;margin:0 0 .3em;word-break:break-word}.field{margin-right:1em}
.chip{display:inline-block;padding:0 .5em;border-radius:3px;margin-right:.4em}
.s{border-radius:3px;padding:1px 2px;cursor:pointer;box-decoration-break:clone;-webkit-box-decoration-break:clone}
.s:hover,.s:focus,.s.on{outline:2px solid #333}
.f{border-bottom:3px solid;padding:0}
.bar{height:.7em;border-radius:2px;display:inline-block;vertical-align:middle}
table{border-collapse:collapse}td{padding:1px 6px 1px 0;vertical-align:middle}
.page{font-size:.75em;color:#666;border:1px solid #bbb;border-radius:3px;padding:0 3px;margin-right:.2em}
"""
_SCRIPT = """
(function(){
  var colours = JSON.parse(document.getElementById('colours').textContent);
  var box = document.getElementById('detail'), current = null;
  function cell(text){var td=document.createElement('td');td.textContent=text;return td;}
  function show(el){
    if(current){current.classList.remove('on');}
    current = el; el.classList.add('on');
    var p = JSON.parse(el.dataset.p), why = JSON.parse(el.dataset.why || '[]');
    box.textContent = '';
    var h = document.createElement('h3'); h.textContent = el.dataset.label; box.appendChild(h);
    if(el.dataset.page){var pg=document.createElement('p'); pg.textContent='Page '+el.dataset.page+' of the PDF';
      box.appendChild(pg);}
    var t = document.createElement('table');
    Object.keys(p).forEach(function(k){
      var tr = document.createElement('tr'); tr.appendChild(cell(k));
      var bar = document.createElement('span'); bar.className = 'bar';
      bar.style.width = Math.round(p[k]*120)+'px'; bar.style.background = colours[k];
      var td = document.createElement('td'); td.appendChild(bar); tr.appendChild(td);
      tr.appendChild(cell(p[k].toFixed(3))); t.appendChild(tr);
    });
    box.appendChild(t);
    if(why.length){
      var w = document.createElement('p'); w.textContent = 'Words that drove it: ';
      box.appendChild(w);
      var u = document.createElement('table');
      why.forEach(function(pair){var tr=document.createElement('tr');tr.appendChild(cell(pair[0]));
        tr.appendChild(cell('+'+pair[1].toFixed(3)));u.appendChild(tr);});
      box.appendChild(u);
    }
  }
  document.querySelectorAll('.s').forEach(function(el){
    el.addEventListener('mouseenter', function(){show(el);});
    el.addEventListener('click', function(){show(el);});
    el.addEventListener('focus', function(){show(el);});
  });
})();
"""


def _write_html(records: Iterable[TaggedRecord], out: TextIO) -> None:
    esc = html.escape
    out.write("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              f"<title>propclf report</title><style>{_STYLE}</style></head><body>\n<header><h1>propclf report</h1>"
              "<div class=\"legend\">")
    for label in (*LABELS, UNCERTAIN):
        name = LABEL_NAMES.get(label, "below --min-confidence")
        out.write(f"<span class=\"chip\" style=\"background:{COLOURS[label]}\">{esc(label)}</span>"
                  + (f"<small>{esc(name)}</small> " if name != label else " "))
    out.write("<small>· Hover over, click or tab to a sentence for its probabilities and the words behind it; "
              "quoted fragments are underlined in their own label's colour.</small></div></header>\n"
              "<main><div id=\"docs\">\n")
    total: Counter[str] = Counter()
    documents = 0
    for first, items in _documents(records):
        documents += 1
        total.update(_write_document(first, items, out, _where(first)))
    summary = ", ".join(f"{total[label]} {label}" for label in (*LABELS, UNCERTAIN) if total[label])
    out.write(f"<p><small>{documents} document(s), {sum(total.values())} sentences: {esc(summary)}.</small></p>"
              "</div><aside id=\"detail\">Hover over a sentence.</aside></main>\n"
              f"<script type=\"application/json\" id=\"colours\">{json.dumps(COLOURS)}</script>"
              f"<script>{_SCRIPT}</script></body></html>\n")


def _write_document(first: TaggedRecord, items: list[TaggedRecord], out: TextIO, title: str | None) -> Counter[str]:
    """One document's section of the report: its sentences in their labels' colours; return its label counts."""
    esc = html.escape
    counts = Counter(r.sentence.label for r in items)
    summary = " ".join(f"<span class=\"chip\" style=\"background:{COLOURS[label]}\">{counts[label]} {label}</span>"
                       for label in (*LABELS, UNCERTAIN) if counts[label] or label != UNCERTAIN)
    fields = "".join(f"<span class=\"field\"><b>{esc(key)}</b> {esc(value)}</span> "
                     for key, value in first.fields.items())
    out.write("<section class=\"doc\">" + (f"<h2>{esc(title)}</h2>" if title is not None else "")
              + (f"<p class=\"fields\">{fields}</p>" if fields else "")
              + f"<p class=\"counts\">{len(items)} sentences: {summary}</p><p>")
    previous_end, page = None, None
    for record in items:
        s = record.sentence
        if previous_end is not None and s.start - previous_end > 1:
            out.write("</p>\n<p>")  # more than one character between sentences: a paragraph break
        previous_end = s.end
        if record.page is not None and record.page != page:  # a PDF: where each page begins
            page = record.page
            out.write(f"<span class=\"page\" title=\"page {page} of the PDF\">p.&nbsp;{page}</span> ")
        where = f" data-page=\"{record.page}\"" if record.page is not None else ""
        probabilities = {k: round(v, 4) for k, v in s.probabilities.items()}
        tooltip = " · ".join(f"{k} {v:.2f}" for k, v in s.probabilities.items())
        out.write(f"<span class=\"s\" tabindex=\"0\" style=\"background:{COLOURS[s.label]}\"{where} "
                  f"data-label=\"{esc(s.label)}\" data-p=\"{esc(json.dumps(probabilities))}\" "
                  f"data-why=\"{esc(json.dumps(s.explanation or []))}\" title=\"{esc(tooltip)}\">"
                  f"{_with_fragments(s.text, s.fragments)}</span> ")
    out.write("</p></section>\n")
    return counts


#: The report's look for a document shown inside another page (a notebook cell): every rule scoped to the
#: fragment's own element, so that it changes nothing else on the page.
_FRAGMENT_STYLE = """
.propclf-doc{font:15px/1.6 system-ui,sans-serif;color:#222}
.propclf-doc .doc{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em 1.2em}
.propclf-doc .counts{color:#555;font-size:13px;margin:0 0 .6em}
.propclf-doc .chip{display:inline-block;padding:0 .5em;border-radius:3px;margin-right:.4em}
.propclf-doc .s{border-radius:3px;padding:1px 2px;box-decoration-break:clone;-webkit-box-decoration-break:clone}
.propclf-doc .s:hover,.propclf-doc .s:focus{outline:2px solid #333}
.propclf-doc .f{border-bottom:3px solid;padding:0}
"""


def html_fragment(records: Iterable[TaggedRecord]) -> str:
    """One tagged document as the report shows it, as an HTML fragment for another page (a notebook cell):
    its own scoped style, no script (each sentence's probabilities are in its tooltip)."""
    out = io.StringIO()
    out.write(f"<div class=\"propclf-doc\"><style>{_FRAGMENT_STYLE}</style>")
    items = list(records)
    if items:
        _write_document(items[0], items, out, None)
    else:
        out.write("<section class=\"doc\"><p class=\"counts\">0 sentences</p></section>")
    out.write("</div>")
    return out.getvalue()


def _with_fragments(text: str, fragments: Iterable) -> str:
    """The sentence as HTML, each quoted fragment underlined in its label's colour."""
    parts, position = [], 0
    for fragment in fragments:
        at = text.find(fragment.text, position)
        if at < 0:
            continue
        tooltip = f"quoted: {fragment.label} " + " · ".join(f"{k} {v:.2f}" for k, v in fragment.probabilities.items())
        parts.append(html.escape(text[position:at]))
        parts.append(f"<span class=\"f\" style=\"border-color:{_darker(COLOURS[fragment.label])}\" "
                     f"title=\"{html.escape(tooltip)}\">{html.escape(fragment.text)}</span>")
        position = at + len(fragment.text)
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def _darker(colour: str) -> str:
    red, green, blue = (int(colour[i:i + 2], 16) // 2 for i in (1, 3, 5))
    return f"#{red:02x}{green:02x}{blue:02x}"
