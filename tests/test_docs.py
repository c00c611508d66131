"""The README and the command line agree: every command has help, every command and option the README
shows with ``propclf`` exists (and ``python train.py`` takes what ``propclf train`` takes)."""

import re

import click
import pytest

from conftest import ROOT, run
from propclf.cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
# A command line as the README shows it: in a code span or on a line of a code block.
SHOWN = re.compile(r"^(?:\$ )?(?:propclf|python train\.py)(?: [^`\n]*)?$")


def _code() -> list[str]:
    """The README's code: its code spans, and the lines of its code blocks."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", README, flags=re.M | re.S)
    return re.findall(r"`([^`\n]+)`", re.sub(r"^```[a-z]*\n.*?^```", "", README, flags=re.M | re.S)) + [
        line for block in blocks for line in block.splitlines() if not line[:1].isspace()]  # not output


def _shown_commands() -> list[tuple[str, list[str]]]:
    found = []
    pieces = (piece.strip() for text in _code() for piece in re.split(r"&&|\|", text))
    for match in filter(None, map(SHOWN.match, pieces)):
        words = match.group(0).removeprefix("$ ").split()
        if words[0] == "python":
            name, rest = "train", words[2:]
        elif len(words) > 1 and re.fullmatch(r"[a-z]+", words[1]):
            name, rest = words[1], words[2:]
        else:
            continue
        options = [w.split("=")[0].strip("[],.;:()") for w in rest if w.startswith(("--", "[--"))]
        found.append((name, [o.lstrip("[") for o in options]))
    return found


def _options(command: click.Command) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)} | {"--help"}


def test_every_command_has_help(capsys):
    assert cli.commands
    for name, command in cli.commands.items():
        assert command.help and command.help.strip(), name
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and f"Usage: propclf {name}" in out, name


def test_every_command_and_option_in_the_readme_exists():
    shown = _shown_commands()
    assert len(shown) > 30  # the README shows many command lines; the pattern must keep finding them
    unknown = sorted({name for name, _ in shown if name not in cli.commands})
    assert unknown == [], f"the README shows commands the CLI does not have: {unknown}"
    missing = sorted({(name, option) for name, options in shown if name in cli.commands
                      for option in options if option not in _options(cli.commands[name])})
    assert missing == [], f"the README shows options the CLI does not have: {missing}"


@pytest.mark.parametrize("name", ["predict", "train", "label"])
def test_the_main_commands_are_in_the_readme(name):
    assert f"propclf {name}" in README
