"""Document extraction: the libraries propclf uses against the alternatives, and against plain text.

Run from the repository root (needs ``pip install -c constraints.txt -e '.[bench]'``, then
``pip install -c constraints.txt readability-lxml`` on its own: pip cannot resolve it together with
trafilatura; a library that is not installed gets a row saying so)::

    python benchmarks/formats.py            # Markdown tables on stdout
    python benchmarks/formats.py --quick    # tiny inputs, one run

The sample files are made here: a PDF report (running header, page-number footer, hyphenated line
wraps, a sentence cut by each page break) written with fpdf2, and news pages (navigation, a menu,
related links, a footer around an article). Quality is what the tagger sees: the share of the
expected sentences that ``propclf.segment`` finds, exactly, in the extracted text (**recall**), and
the share of the boilerplate lines that got in (**boilerplate**). Speed is given as a ratio: the
time to extract and segment, over the time to read and segment the same text from a ``.txt`` file,
measured in the same run (the median of ``--runs``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _text import median_seconds  # benchmarks/ is on sys.path: this script's folder

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from propclf._segment import segment  # noqa: E402

SENTENCES = [
    "The state newspaper praised the harvest as a victory of the people.",
    "Critics called the campaign a cynical display of power.",
    "Long live the great leader!",
    "The villagers were destined to work without pay through the winter.",
    "Independent observers were refused entry to the region for the whole year.",
    "The ministry did not answer the letters sent by the families.",
]
BOILERPLATE = ["Home", "World news", "Sport", "Weather", "Subscribe to our newsletter", "Related stories",
               "Copyright 2024 Daily Courier. All rights reserved.", "Privacy policy"]


def page_sentences(page: int) -> list[str]:
    return [s.replace("The ", f"In district {page} the ", 1) if s.startswith("The ") else s for s in SENTENCES]


def make_pdf(path: Path, pages: int) -> list[str]:
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, "Annual Report 2024 - Human Rights in Practice", align="C")
            self.set_y(20)
            self.set_font("Helvetica", size=11)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Page {self.page_no()}", align="C")

    pdf = Report()
    pdf.set_font("Helvetica", size=11)
    expected = []
    for page in range(pages):
        pdf.add_page()
        sentences = page_sentences(page)
        expected += sentences
        pdf.multi_cell(0, 6, " ".join(sentences).replace("destined", "des-\ntined"))
    pdf.output(str(path))
    return expected


def make_html(path: Path, articles: int) -> list[str]:
    nav = "".join(f"<li><a href='/{i}'>{item}</a></li>" for i, item in enumerate(BOILERPLATE[:4]))
    body = "".join(f"<p>{' '.join(page_sentences(n))}</p>" for n in range(articles))
    path.write_text(f"<!doctype html><html><head><title>Daily Courier</title></head><body><nav><ul>{nav}</ul></nav>"
                    f"<div class='promo'>{BOILERPLATE[4]}</div><article><h1>The harvest campaign</h1>{body}</article>"
                    f"<aside><h3>{BOILERPLATE[5]}</h3><ul><li><a href='/a'>Other story</a></li></ul></aside>"
                    f"<footer><p>{BOILERPLATE[6]}</p><a href='/p'>{BOILERPLATE[7]}</a></footer></body></html>",
                    encoding="utf-8")
    return [s for n in range(articles) for s in page_sentences(n)]


def pypdf_text(path: Path) -> str:
    from propclf._formats import extract_text

    return extract_text(path, str(path), "pdf")


def pdfminer_text(path: Path) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(str(path))


def trafilatura_text(path: Path) -> str:
    from propclf._formats import extract_text

    return extract_text(path, str(path), "html")


def readability_text(path: Path) -> str:
    import lxml.html
    from readability import Document

    summary = Document(path.read_text(encoding="utf-8")).summary(html_partial=True)
    tree = lxml.html.fromstring(summary)
    return "\n\n".join(" ".join(p.text_content().split()) for p in tree.iter("p", "h1", "h2", "h3", "li")
                       if p.text_content().strip())


PDF_BOILERPLATE = ["Annual Report 2024 - Human Rights in Practice", "Page 2"]


def quality(text: str, expected: list[str], boilerplate: list[str]) -> tuple[float, float]:
    found = {span.text for span in segment(text)}
    recall = sum(s in found for s in expected) / len(expected)
    return recall, sum(b in text for b in boilerplate) / len(boilerplate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pages, runs = (5, 1) if args.quick else (200, args.runs)
    with tempfile.TemporaryDirectory() as folder:
        folder_path = Path(folder)
        pdf = folder_path / "report.pdf"
        html = folder_path / "page.html"
        rows = []
        for kind, path, expected, candidates in (
                ("PDF", pdf, make_pdf(pdf, pages), [("pypdf (chosen)", pypdf_text), ("pdfminer.six", pdfminer_text)]),
                ("HTML", html, make_html(html, pages), [("trafilatura (chosen)", trafilatura_text),
                                                        ("readability-lxml", readability_text)])):
            for name, extract in candidates:
                try:
                    text = extract(path)
                except ImportError as exc:
                    rows.append(f"| {kind} | {name} | not installed ({exc.name}) | | |")
                    continue
                plain = folder_path / "plain.txt"
                plain.write_text(text, encoding="utf-8")
                baseline = median_seconds(lambda: segment(plain.read_text(encoding="utf-8")), runs)[0]  # noqa: B023 - used at once
                seconds = median_seconds(lambda: segment(extract(path)), runs)[0]  # noqa: B023
                recall, boilerplate = quality(text, expected, PDF_BOILERPLATE if kind == "PDF" else BOILERPLATE)
                rows.append(f"| {kind} | {name} | {recall:.1%} | {boilerplate:.0%} | {seconds / baseline:,.0f}x "
                            f"({seconds:.2f} s) |")
    print(f"## Document extraction ({pages} pages / paragraphs, median of {runs})\n")
    print("| format | library | sentences recovered | boilerplate kept | time vs the same .txt |")
    print("| --- | --- | ---: | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
