"""docs/tutorial.md is run as written: every `simcenter` line of its ```sh blocks, in order, in a
temporary directory, on a few days instead of a year (appended overrides win: the last --set of a
key and the last -r count). A command outside a tested block, a file the tutorial names in a
results directory that no command wrote, or an image link to nothing fails here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from simcenter.cli import main
from simcenter.resolve import load_scenario
from simcenter.staffing import parse_targets

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
SIMULATING = {"run", "compare", "staff", "sensitivity", "sweep"}
SHORT = ["--set", "horizon.days=3", "--set", "horizon.warmup_days=1", "--set", "horizon.drain_days=2", "-r", "2"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
MENTION = re.compile(r"simcenter\s+(" + "|".join(sorted(main.commands)) + r")\b[^`\n]*")


def text() -> str:
    return TUTORIAL.read_text(encoding="utf-8")


def command_lines(markdown: str) -> list[str]:
    """The `simcenter ...` lines of the ```sh blocks, in order (a trailing backslash continues)."""
    lines = []
    for lang, body in FENCE.findall(markdown):
        if lang == "sh":
            lines += [line.strip() for line in body.replace("\\\n", " ").splitlines()
                      if line.strip().startswith("simcenter ")]
    return lines


def commands() -> list[list[str]]:
    return [shlex.split(line)[1:] for line in command_lines(text())]


def outs(args: list[str]) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--out", "-o")]


def mentioned_files(markdown: str, out_dirs: set[str]) -> list[str]:
    """Inline code naming a path inside a results directory of the tutorial: `DIR/...`."""
    return [span for span in INLINE.findall(markdown) if span.split("/")[0] in out_dirs and "/" in span]


def test_the_tutorial_has_commands_and_every_mention_is_one_of_them():
    markdown = text()
    tested = [" ".join(line.split()) for line in command_lines(markdown)]
    assert len(tested) >= 6 and {line.split()[1] for line in tested} >= {"compare", "plot", "staff", "sensitivity"}
    untested = []
    for lang, body in FENCE.findall(markdown):  # inside code blocks: only a tested line may call simcenter
        for line in body.replace("\\\n", " ").splitlines():
            if MENTION.search(line) and not (lang == "sh" and line.strip().startswith("simcenter ")):
                untested.append(line.strip())
    prose = FENCE.sub("", markdown)
    for span in INLINE.findall(prose):  # inline: a bare `simcenter staff` names it; with arguments it must be run
        match = MENTION.fullmatch(span.strip())
        if match and span.strip() != f"simcenter {match.group(1)}" and " ".join(span.split()) not in tested:
            untested.append(span)
    assert not untested, f"commands the tutorial shows but its ```sh blocks do not run: {untested}"


def test_every_image_of_the_tutorial_exists_and_is_small():
    links = IMAGE.findall(text())
    assert len(links) >= 2
    for link in links:
        image = TUTORIAL.parent / link
        assert image.is_file(), link
        assert image.stat().st_size < 150_000, f"{link}: {image.stat().st_size} bytes"


def test_every_command_of_the_tutorial_parses():
    """Options, targets, townships and scenarios, without simulating anything."""
    for args in commands():
        command = main.get_command(click.Context(main), args[0])
        assert command is not None, args
        params = command.make_context(args[0], list(args[1:])).params
        if args[0] in SIMULATING:
            parse_targets(params.get("targets") or ())
            for name in [params.get("scenario"), params.get("baseline"), *params.get("scenarios", ()),
                         *params.get("reforms", ())]:
                if name:
                    spec = load_scenario(name, params.get("sets", ()))
                    assert set(params.get("townships", ())) <= set(spec.townships), args


@pytest.mark.slow
def test_every_command_of_the_tutorial_runs_and_writes_what_it_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out_dirs = set()
    for args in commands():
        extra = SHORT if args[0] in SIMULATING else []
        result = CliRunner().invoke(main, args + extra, catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stderr)
        out_dirs.update(outs(args))
    files = mentioned_files(text(), out_dirs)
    assert len(files) >= 6, files
    missing = [f for f in files if not (tmp_path / f).exists()]
    assert not missing, f"the tutorial names files no command wrote: {missing}"
