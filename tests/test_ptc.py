"""The PTC importer (``benchmarks/_ptc.py``) on a tiny corpus written here, on the real PTC, and the benchmark.

The real corpus is never copied into this repository: it is read from ``../shared/ptc`` beside the
checkout, and the tests that need it are skipped when it is not there.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from propclf import InputError

sys.path.insert(0, str(ROOT / "benchmarks"))  # the PTC reader belongs to the benchmark, as its scripts import it
from _ptc import ARTICLES_DIR, SPAN_LABELS, TECHNIQUE_LABELS, PtcSentence, load_ptc, ptc_available  # noqa: E402

PTC = Path(__file__).resolve().parents[2] / "shared" / "ptc"
needs_ptc = pytest.mark.skipif(not ptc_available(PTC), reason="the PTC corpus is not at ../shared/ptc")

# Two articles written for this test, in PTC's layout: title, blank line, one sentence a line.
ARTICLE_1001 = ("Bright Days Ahead\n\nThe town held a fair on Sunday.\n"
                "Visitors were told that only fools stay home.\nA band played until dusk.\n")
# A byte-order mark (counted by the offsets), CRLF line ends, a blank line of spaces, a line holding only U+FEFF.
ARTICLE_1002 = "\ufeffQuiet Report\r\n\r\n   \r\n\ufeff\r\nRain fell.\r\n"
TECHNIQUES = [
    ("1001", "Slogans", 0, 17),                 # the whole title
    ("1001", "Name_Calling,Labeling", 80, 85),  # 'fools'
    ("1001", "Name_Calling,Labeling", 82, 84),  # the same technique again, inside it
    ("1001", "Loaded_Language", 91, 103),       # 'home.\nA band': crosses into the next line
    ("1001", "Loaded_Language", 50, 51),        # only the newline between two lines: touches neither
]
SPANS = [(article, start, end) for article, _, start, end in TECHNIQUES] + [("1002", 25, 29)]  # 'Rain'


def write_ptc(root: Path, techniques: list[str] | None = None, spans: list[str] | None = None) -> Path:
    """A PTC-format folder under ``root``; ``techniques``/``spans`` replace the labels files' lines."""
    articles = root / ARTICLES_DIR
    articles.mkdir(parents=True)
    (articles / "article1001.txt").write_bytes(ARTICLE_1001.encode("utf-8"))
    (articles / "article1002.txt").write_bytes(ARTICLE_1002.encode("utf-8"))
    if techniques is None:
        techniques = ["\t".join(map(str, row)) for row in TECHNIQUES]
    if spans is None:
        spans = ["\t".join(map(str, row)) for row in SPANS]
    (root / TECHNIQUE_LABELS).write_text("".join(f"{line}\n" for line in techniques), encoding="utf-8")
    (root / SPAN_LABELS).write_text("".join(f"{line}\n" for line in spans), encoding="utf-8")
    return root


@pytest.fixture
def ptc(tmp_path: Path) -> Path:
    return write_ptc(tmp_path / "ptc")


def raises(ptc_dir: Path, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_ptc(ptc_dir)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


# --- sentences, offsets, the overlap rule ---------------------------------------------------------

def test_sentences_offsets_and_labels(ptc: Path):
    assert load_ptc(ptc) == [
        PtcSentence("1001", 0, 0, 17, "Bright Days Ahead", True, ("Slogans",)),
        PtcSentence("1001", 1, 19, 50, "The town held a fair on Sunday.", False, ()),
        PtcSentence("1001", 2, 51, 96, "Visitors were told that only fools stay home.", True,
                    ("Loaded_Language", "Name_Calling,Labeling")),
        PtcSentence("1001", 3, 97, 122, "A band played until dusk.", True, ("Loaded_Language",)),
        PtcSentence("1002", 0, 1, 13, "Quiet Report", False, ()),
        PtcSentence("1002", 1, 25, 35, "Rain fell.", True, ()),  # a span of the SI file only: no technique
    ]


def test_offsets_cut_the_sentence_from_the_article(ptc: Path):
    articles = {"1001": ARTICLE_1001, "1002": ARTICLE_1002}
    for sentence in load_ptc(ptc):
        assert articles[sentence.article_id][sentence.start:sentence.end] == sentence.text


@pytest.mark.parametrize("start, end, flagged", [
    (18, 19, []),   # the blank line between title and sentence: touches neither
    (16, 17, [0]),  # the title's last character
    (17, 19, []),   # from the title's end to the next sentence's start: both ends are exclusive
    (49, 51, [1]),  # the sentence's final '.' and the newline after it
    (19, 20, [1]),  # its first character
])
def test_overlap_rule_is_strict_at_both_ends(tmp_path: Path, start: int, end: int, flagged: list[int]):
    root = write_ptc(tmp_path / "ptc", techniques=[f"1001\tDoubt\t{start}\t{end}"], spans=[])
    assert [s.index for s in load_ptc(root) if s.propaganda] == flagged


def test_articles_without_labels_are_all_none(tmp_path: Path):
    root = write_ptc(tmp_path / "ptc", techniques=[], spans=[])
    sentences = load_ptc(root)
    assert len(sentences) == 6
    assert not any(s.propaganda or s.techniques for s in sentences)


def test_ptc_available(ptc: Path, tmp_path: Path):
    assert ptc_available(ptc)
    assert not ptc_available(tmp_path / "nowhere")
    (ptc / SPAN_LABELS).unlink()
    assert not ptc_available(ptc)


# --- errors: one line each, naming the file -------------------------------------------------------

def test_missing_folder(tmp_path: Path):
    raises(tmp_path / "nowhere", f"{tmp_path / 'nowhere'}: no such folder (expected the PTC corpus here)")


def test_folder_is_a_file(tmp_path: Path):
    (tmp_path / "ptc").write_text("x", encoding="utf-8")
    raises(tmp_path / "ptc", f"{tmp_path / 'ptc'}: is a file, not the PTC folder")


def test_missing_articles_folder(tmp_path: Path):
    (tmp_path / "ptc").mkdir()
    raises(tmp_path / "ptc", f"{tmp_path / 'ptc' / ARTICLES_DIR}: no such folder (expected the PTC articles here)")


def test_no_articles(tmp_path: Path):
    (tmp_path / "ptc" / ARTICLES_DIR).mkdir(parents=True)
    raises(tmp_path / "ptc", f"{tmp_path / 'ptc' / ARTICLES_DIR}: no article<ID>.txt files in this folder")


@pytest.mark.parametrize("name", [TECHNIQUE_LABELS, SPAN_LABELS])
def test_missing_labels_file(ptc: Path, name: str):
    (ptc / name).unlink()
    raises(ptc, f"{ptc / name}: no such file (expected the PTC labels here)")


def test_article_not_utf8(ptc: Path):
    (ptc / ARTICLES_DIR / "article1002.txt").write_bytes(b"Caf\xe9\n")
    raises(ptc, f"{ptc / ARTICLES_DIR / 'article1002.txt'}: not valid UTF-8 (byte 0xe9 at offset 3)")


@pytest.mark.parametrize("line, problem", [
    ("1001\tSlogans\t0", "expected 4 tab-separated fields (article id, technique, start, end), found 3"),
    ("1001 Slogans 0 17", "expected 4 tab-separated fields (article id, technique, start, end), found 1"),
    ("1001\tSlogans\t0\t17\textra", "expected 4 tab-separated fields (article id, technique, start, end), found 5"),
    ("1001\tSlogans\tzero\t17", "start and end must be whole numbers, found 'zero' and '17'"),
    ("1001\tSlogans\t0\t1.5", "start and end must be whole numbers, found '0' and '1.5'"),
    ("1001\t \t0\t17", "empty technique"),
    ("1001\tSlogans\t17\t17", "bad span (17, 17): need 0 <= start < end"),
    ("1001\tSlogans\t20\t10", "bad span (20, 10): need 0 <= start < end"),
    ("1001\tSlogans\t-1\t5", "bad span (-1, 5): need 0 <= start < end"),
    ("1001\tSlogans\t100\t124", "span (100, 124) runs past the end of article 1001 (123 characters)"),
])
def test_malformed_technique_line(tmp_path: Path, line: str, problem: str):
    # The bad line is the third; blank lines are skipped but still counted.
    root = write_ptc(tmp_path / "ptc", techniques=["1001\tDoubt\t0\t6", "", line])
    raises(root, f"{root / TECHNIQUE_LABELS}, line 3: {problem}")


def test_malformed_span_line(tmp_path: Path):
    root = write_ptc(tmp_path / "ptc", spans=["1001\tSlogans\t0\t17"])
    raises(root, f"{root / SPAN_LABELS}, line 1: expected 3 tab-separated fields (article id, start, end), found 4")


@pytest.mark.parametrize("name", [TECHNIQUE_LABELS, SPAN_LABELS])
def test_label_for_a_missing_article(tmp_path: Path, name: str):
    line = "1001\t0\t5\n9999\t0\t5\n" if name == SPAN_LABELS else "1001\tDoubt\t0\t5\n9999\tDoubt\t0\t5\n"
    root = write_ptc(tmp_path / "ptc")
    (root / name).write_text(line, encoding="utf-8")
    raises(root, f"{root / name}, line 2: article '9999' not found "
                 f"(no {root / ARTICLES_DIR / 'article9999.txt'})")


# --- the real corpus ------------------------------------------------------------------------------

@needs_ptc
def test_real_ptc_counts():
    """Counts checked by hand, independently of the loader: ``ls train-articles | wc -l`` gives 371;
    ``grep -c '[^[:space:]]'`` summed over the articles gives 16,673 non-blank lines, 7 of which hold only
    U+FEFF (blank here); a per-character coverage of the SI spans marks 4,753 of the lines and of the
    ``Slogans`` spans 128; ``cut -f1 train-task2-TC.labels | sort -u | wc -l`` gives 357 labelled articles."""
    sentences = load_ptc(PTC)
    assert len({s.article_id for s in sentences}) == 371
    assert len(sentences) == 16_666
    assert sum(s.propaganda for s in sentences) == 4_753
    assert sum("Slogans" in s.techniques for s in sentences) == 128
    assert len({s.article_id for s in sentences if s.propaganda}) == 357
    assert all(s.propaganda == bool(s.techniques) for s in sentences)  # the SI and TC spans agree
    articles: dict[str, str] = {}
    for s in sentences:
        if s.article_id not in articles:
            path = PTC / ARTICLES_DIR / f"article{s.article_id}.txt"
            articles[s.article_id] = path.read_bytes().decode("utf-8")
        assert articles[s.article_id][s.start:s.end] == s.text == s.text.strip()


# --- the benchmark script -------------------------------------------------------------------------

def run_benchmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "benchmarks/ptc.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_benchmark_without_ptc_says_so_and_exits_0(tmp_path: Path):
    result = run_benchmark("--ptc-dir", str(tmp_path / "nowhere"), "--quick")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "PTC corpus not found" in result.stdout


@needs_ptc
def test_quick_benchmark():
    results = ROOT / "benchmarks" / "PTC_RESULTS.md"
    before = results.read_bytes() if results.exists() else None
    result = run_benchmark("--quick")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^F1 0\.\d{3} pooled; 0\.\d{3} ± 0\.\d{3} over 2 folds", result.stdout, re.MULTILINE)
    assert "ROC AUC" in result.stdout
    assert (results.read_bytes() if results.exists() else None) == before  # --quick writes nothing
    # The report holds counts and scores, never the corpus' text.
    assert not [s.text for s in load_ptc(PTC) if len(s.text) >= 25 and s.text in result.stdout]
