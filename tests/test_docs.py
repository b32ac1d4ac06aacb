"""The README and docs/ link only to files and headings that exist, and cite only release tags
that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tools.stack_file import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
README_LIMIT = 300


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to '-'."""
    found = set()
    for heading in re.findall(r"(?m)^#+ (.*)$", page.read_text()):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO_ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page: Path):
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: #{anchor} not in {resolved.name}"


def test_the_readme_is_a_front_page():
    assert len((REPO_ROOT / "README.md").read_text().splitlines()) <= README_LIMIT


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO_ROOT)) for p in PAGES])
def test_every_cited_release_tag_exists(page: Path):
    """`…@v1.2.3` in an install command is a git tag of this repository (a clone without tags,
    e.g. a shallow CI checkout, must fetch them: `git fetch --tags`)."""
    cited = set(re.findall(r"@(v\d+\.\d+\.\d+)\b", page.read_text()))
    tags = subprocess.run(
        ["git", "tag", "-l"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert cited <= set(tags), f"{page.name} cites {sorted(cited - set(tags))}: no such tag"


def test_the_readme_tree_names_each_file_where_it_is():
    """The architecture tree: each top-level entry, and each entry indented under it, exists
    at that path (a line inserted in the wrong place moves what follows under it)."""
    readme = (REPO_ROOT / "README.md").read_text()
    tree = readme.split("## Architecture", 1)[1].split("```", 2)[1]
    parent, missing, seen = "", [], 0
    for line in tree.splitlines()[1:]:
        entry = re.match(r"^(  )?(\S+)", line)
        if not entry:
            continue  # a description continued
        path = f"{parent}{entry.group(2)}" if entry.group(1) else entry.group(2)
        if not entry.group(1):
            parent = path if path.endswith("/") else ""
        seen += 1
        if not list(REPO_ROOT.glob(path)):
            missing.append(path)
    assert seen > 30 and not missing, missing
