"""The data notes of the report: which results were made from the shipped Cangnan data, and the
notes to show for them (docs/cangnan-data-notes.md, one note per bullet; shipped in the wheel as
simcenter/docs/). Reports of other scenarios show the general note only."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..resultsdir import ResultsDir

NOTES_FILE = "cangnan-data-notes.md"
SHIPPED = "baseline"  # the shipped scenario whose townships mark the shipped data

GENERAL = ("The resolved scenarios in this results directory carry no comments: where each number comes from is in "
           "the comments of the scenario files they were made from. The model's assumptions are in docs/model.md and "
           "every KPI's definition in docs/kpis.md of the simcenter source.")


def data_notes(results: ResultsDir) -> list[str]:
    """The notes of the data section: the shipped data's notes if the results were made from it, then the general one."""
    shipped = set(results.township_ids()) & _shipped_townships()
    return [*(_shipped_notes() if shipped else []), GENERAL]


@lru_cache(maxsize=1)
def _shipped_townships() -> frozenset[str]:
    """The township ids of the shipped baseline (none if it cannot be read)."""
    import yaml

    from ..scenario.load import packaged_scenario

    path = packaged_scenario(SHIPPED)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        return frozenset(str(t) for t in data["townships"])
    except (AttributeError, OSError, yaml.YAMLError, KeyError, TypeError):
        return frozenset()


@lru_cache(maxsize=1)
def _shipped_notes() -> tuple[str, ...]:
    """The bullets of docs/cangnan-data-notes.md: in the wheel (simcenter/docs/) or in a source checkout (docs/)."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "docs", package.parent / "docs"):
        file = folder / NOTES_FILE
        if file.is_file():
            return tuple(_bullets(file.read_text(encoding="utf-8")))
    return (f"These results were made from the shipped Cangnan data: see docs/{NOTES_FILE} and docs/data.md of the "
            "simcenter source for how far its numbers are assumptions.",)


def _bullets(markdown: str) -> list[str]:
    """The top-level bullets ("- " and the indented lines that continue them) of a Markdown text, as one line each."""
    items: list[list[str]] = []
    current = None
    for line in markdown.splitlines():
        if line.startswith("- "):
            current = [line[2:].strip()]
            items.append(current)
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line.strip())
        else:
            current = None
    return [" ".join(words) for words in items]
