"""The labeled corpus: its rules, its provenance, and the validator that enforces them."""

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import DATA, RAW
from propclf import CorpusError, load_corpus, segment
from propclf._segment import normalize

CORPUS = load_corpus(str(DATA))
HEADER = "id,text,label,source,start,end,group\n"


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def test_size_and_balance():
    counts = CORPUS.counts()
    assert len(CORPUS) >= 12000
    assert all(count >= 2000 for count in counts.values()), counts


def test_seed_documents_are_bundled_unchanged():
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for seed in sorted(shared.glob("*.txt")):
        assert (RAW / seed.name).read_bytes() == seed.read_bytes()


@pytest.mark.parametrize("raw", sorted(p for p in RAW.glob("*.txt") if not p.name.startswith("team-")),
                         ids=lambda p: p.name[:3])
def test_every_sentence_of_every_seed_is_in_the_corpus(raw: Path):
    """Every character of a seed (but separators) lies in a row's span, or in a repeat of a row's text."""
    text = raw.read_text(encoding="utf-8")
    covered = [False] * len(text)
    for i, source in enumerate(CORPUS.sources):
        if source == raw.name:
            row = next(r for r in rows_of(Path(CORPUS.files[i])) if r["id"] == CORPUS.ids[i])
            for k in range(int(row["start"]), int(row["end"])):
                covered[k] = True
    known = set(CORPUS.texts)
    uncovered = re.finditer(r"[^\x00]+", "".join("\x00" if c else ch for c, ch in zip(covered, text)))
    for gap in uncovered:
        for span in segment(gap.group()):
            assert span.text in known, f"{raw.name}: not in the corpus: {span.text!r}"


def test_seed_rows_point_at_their_text():
    for path in DATA.glob("*.csv"):
        for row in rows_of(path):
            if row["source"] != "authored":
                raw = (RAW / row["source"]).read_text(encoding="utf-8")
                assert normalize(raw[int(row["start"]):int(row["end"])]) == row["text"]


def test_the_two_printings_share_groups():
    """Files 002 and 003 are one news story; each 003 sentence is grouped with its 002 twin."""
    by_id = dict(zip(CORPUS.ids, CORPUS.groups))
    twins = [("seed002-011", "seed003-000"), ("seed002-024", "seed003-013"), ("seed002-044", "seed003-034")]
    for a, b in twins:
        assert by_id[a] == by_id[b]


def test_near_duplicates_share_a_group():
    """No two rows whose words are the same (case and punctuation aside) sit in different groups."""
    seen: dict[str, str] = {}
    for text, group in zip(CORPUS.texts, CORPUS.groups):
        key = " ".join(re.findall(r"\w+", text.lower()))
        assert seen.setdefault(key, group) == group, text


def test_no_template_floods():
    """In each label, the most common first two words start under 10% of its rows."""
    for label in ("slogan", "critique", "neutral"):
        openings = Counter(
            " ".join(text.lower().split()[:2]) for text, lab in zip(CORPUS.texts, CORPUS.labels) if lab == label
        )
        opening, count = openings.most_common(1)[0]
        assert count / sum(openings.values()) < 0.10, (label, opening, count)


def test_authored_rows_are_varied():
    authored = [(t, lab) for t, lab, s in zip(CORPUS.texts, CORPUS.labels, CORPUS.sources) if s == "authored"]
    lengths = [len(t.split()) for t, _ in authored]
    assert min(lengths) <= 3 and max(lengths) >= 40
    for label in ("slogan", "critique", "neutral"):
        texts = [t for t, lab in authored if lab == label]
        with_bang = sum(t.endswith("!") for t in texts)
        assert 0 < with_bang < len(texts)


def write(corpus_dir: Path, body: str) -> None:
    for path in corpus_dir.glob("*.csv"):
        path.unlink()
    (corpus_dir / "extra.csv").write_text(HEADER + body, encoding="utf-8")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a1,Hello there.,praise,authored,,,g1\n",
         "extra.csv, line 2: unknown label 'praise' (expected one of slogan, critique, neutral)"),
        ("a1,,neutral,authored,,,g1\n", "extra.csv, line 2: empty text"),
        ("a1,Hello.,neutral,authored,,,g1\na2,Hello.,neutral,authored,,,g2\n",
         "extra.csv, line 3: duplicate text (first at "),
        ("a1,Hello.,neutral,authored,,,g1\na2,Hello.,slogan,authored,,,g2\n",
         "extra.csv, line 3: same text labeled 'slogan' here and 'neutral' at "),
        ("a1,Hello.,neutral,authored,,,g1\na1,Bye.,neutral,authored,,,g2\n", "extra.csv, line 3: duplicate id 'a1'"),
        ("a1,Hello.,neutral,nowhere.txt,0,5,g1\n", "extra.csv, line 2: source 'nowhere.txt' is neither 'authored'"),
        ("a1,Hello.,neutral,authored,0,6,g1\n", "extra.csv, line 2: authored rows have no start/end offsets"),
        ("a1,Hello  there.,neutral,authored,,,g1\n", "extra.csv, line 2: text has stray white space"),
        ("a1,Hello.,neutral,authored,,,\n", "extra.csv, line 2: empty group"),
        ("a1,Not the seed text.,neutral,000_c312eb8dd21f1c61.txt,0,43,g1\n",
         "extra.csv, line 2: text differs from 000_c312eb8dd21f1c61.txt[0:43]"),
    ],
    ids=["label", "empty", "duplicate", "conflict", "id", "source", "offsets", "spaces", "group", "provenance"],
)
def test_validator_rejects(corpus_dir: Path, body: str, message: str):
    write(corpus_dir, body)
    with pytest.raises(CorpusError) as info:
        load_corpus(str(corpus_dir))
    assert str(info.value).startswith(str(corpus_dir / message.split(",")[0]) + "," + message.split(",", 1)[1]) \
        or message in str(info.value)
    assert str(corpus_dir / "extra.csv") in str(info.value)
    assert "\n" not in str(info.value)


def test_validator_rejects_missing_columns(corpus_dir: Path):
    (corpus_dir / "seeds.csv").write_text("id,text\nx,Hello.\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"seeds\.csv: missing column\(s\) label, source, start, end, group$"):
        load_corpus(str(corpus_dir))


def test_validator_finds_duplicates_across_files(corpus_dir: Path):
    first = rows_of(corpus_dir / "authored.csv")[0]
    line = f"zz1,\"{first['text']}\",{first['label']},authored,,,gz\n"
    (corpus_dir / "more.csv").write_text(HEADER + line, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"more\.csv, line 2: duplicate text \(first at .*authored\.csv, line 2\)"):
        load_corpus(str(corpus_dir))


def test_validator_rejects_unreadable_files(corpus_dir: Path):
    (corpus_dir / "bad.csv").write_bytes(HEADER.encode() + b"a,\xff\xfe,neutral,authored,,,g\n")
    with pytest.raises(CorpusError, match=r"bad\.csv: not valid UTF-8 \(byte 0xff at offset 39\)"):
        load_corpus(str(corpus_dir))
    (corpus_dir / "bad.csv").write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.csv: file is empty"):
        load_corpus(str(corpus_dir))


def test_missing_corpus(tmp_path: Path):
    with pytest.raises(CorpusError, match="no such file or folder"):
        load_corpus(str(tmp_path / "nothing"))
    with pytest.raises(CorpusError, match="no .csv files in this folder"):
        load_corpus(str(tmp_path))


def test_team_documents_are_labeled_sentence_by_sentence():
    """Each document the team wrote is in data/raw, and nearly all of its text lies in corpus rows (a few
    sentences are left out where they were near-duplicates of held-out text or of other rows)."""
    team = sorted(RAW.glob("team-*.txt"))
    assert len(team) >= 150
    spans: dict[str, list[tuple[int, int]]] = {}
    for path in DATA.glob("*.csv"):
        for row in rows_of(path):
            if row["source"].startswith("team-"):
                spans.setdefault(row["source"], []).append((int(row["start"]), int(row["end"])))
    assert set(spans) == {p.name for p in team}
    for path in team:
        text = path.read_text(encoding="utf-8")
        covered = sum(end - start for start, end in spans[path.name])
        assert covered / len(text.strip()) > 0.85, path.name
    documents = rows_of(DATA / "team-documents.csv")
    assert len({row["register"] for row in documents}) >= 12
    assert all(row["group"] for row in documents)


def test_raw_document_origins(corpus_dir: Path):
    team_rows = sum(source.startswith("team-") for source in CORPUS.sources)
    assert CORPUS.origins.count("seed") == 153 and CORPUS.origins.count("team") == 189 + team_rows
    sources = corpus_dir.parent / "raw" / "sources.csv"
    sources.write_text("file,origin\nvelorian-cinema.txt,found\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"sources\.csv, line 2: origin must be seed or team, not 'found'"):
        load_corpus(str(corpus_dir))
