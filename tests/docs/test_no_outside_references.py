"""The repository explains itself: no code or doc cites the design notes kept outside it (the folder named
`shared` beside the checkout), which do not ship. The ledger's design is docs/ledger.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("shop", "certification", "docs", "README.md")
SKIPPED_DIRECTORIES = {"__pycache__"}

# A relative or absolute path into that folder, or prose such as "see shared DOMAIN.md". Written without a
# slash after "shared" so that a search of the repository for the folder's paths does not find this test.
OUTSIDE_REFERENCE = re.compile(rb"(?:\.\./)+shared\b|/work/shared\b|\bshared [A-Z]+\.md\b")


def scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
            continue
        for found in sorted(path.rglob("*")):
            if found.is_file() and not SKIPPED_DIRECTORIES & set(found.relative_to(ROOT).parts):
                files.append(found)
    return files


def test_no_file_of_the_shop_its_docs_or_the_readme_cites_the_outside_design_notes():
    files = scanned_files()
    assert any(path.name == "ledger.md" for path in files), "docs/ledger.md is where the ledger is described"
    citing = []
    for path in files:
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if OUTSIDE_REFERENCE.search(line):
                citing.append(f"{path.relative_to(ROOT)}:{number}: {line.decode(errors='replace').strip()}")
    assert citing == [], "cite docs/ledger.md (or another file in the repository) instead:\n" + "\n".join(citing)


@pytest.mark.parametrize(
    "text",
    [
        "/".join(["..", "shared", "LEDGER.md"]),
        "(" + "/".join(["..", "..", "shared", "DOMAIN.md"]) + ", the split)",
        "/".join(["", "work", "shared", "STYLE.md"]),
        "the 2020 reports (see shared DOMAIN.md)",
    ],
)
def test_the_search_recognises_a_citation_of_the_outside_notes(text):
    assert OUTSIDE_REFERENCE.search(text.encode())


@pytest.mark.parametrize(
    "text",
    ["(docs/ledger.md, the split)", "household_share_bp is shared by the links", "a shared Redis", "shared_limit"],
)
def test_the_search_leaves_ordinary_words_alone(text):
    assert not OUTSIDE_REFERENCE.search(text.encode())
