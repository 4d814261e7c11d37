"""Reading scenario files: YAML 1.2 core schema, line marks, `extends`, `--set`, errors.

Every problem becomes one line `file:line:col: dotted.key: what was expected (got X)`, and
all the problems of a file are reported together as one `ScenarioError`.
"""

from __future__ import annotations

import difflib
import importlib.resources
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_EXTENDS = 8
SET_SOURCE = "<--set>"

Path_ = tuple[str, ...]
Mark = tuple[str, int, int]  # (file, line, column), 1-based


class ScenarioError(Exception):
    """Bad input: one formatted line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems

    def __reduce__(self):  # raised in a worker process, it arrives with its list of lines
        return ScenarioError, (self.problems,)


def problem(mark: Mark, path: Path_ | str, expected: str, got: Any = None, show_got: bool = True) -> str:
    where = f"{mark[0]}:{mark[1]}:{mark[2]}"
    key = path if isinstance(path, str) else (".".join(str(p) for p in path) or "<document>")
    tail = f" (got {_show(got)})" if show_got else ""
    return f"{where}: {key}: {expected}{tail}"


from .schema import Said  # noqa: E402  (a description of what was found, shown unquoted)


def _show(value: Any) -> str:
    if isinstance(value, Said):
        return str(value)
    text = repr(value) if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------- YAML 1.2 core


class CoreLoader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema: `8:30` and `no` stay strings, `012` is 12."""

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in scenario files", event.start_mark)
        return super().compose_node(parent, index)


_DROPPED = {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "timestamp", "merge", "value")}
CoreLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CoreLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def _construct_int(loader, node):
    text = loader.construct_scalar(node).lower()
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith(("0o", "0x")):
        return sign * int(digits, 0)
    return sign * int(digits, 10)


CoreLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class FastCoreLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same schema on libyaml's parser (three times faster on the Cangnan data). It cannot
    refuse aliases while composing nor word errors as the pure-Python parser does, so a document
    with an alias or an error is parsed again by CoreLoader, which says where and why."""

    yaml_implicit_resolvers = CoreLoader.yaml_implicit_resolvers
    yaml_constructors = CoreLoader.yaml_constructors


def _mark(file: str, yaml_mark) -> Mark:
    return (file, yaml_mark.line + 1, yaml_mark.column + 1)


def parse_yaml(text: str, file: str, fast: bool = True) -> tuple[Any, dict[Path_, Mark]]:
    """Parse one YAML document into plain data plus a mark for every key and list item
    (`fast`: with libyaml first)."""
    if "\x00" in text:
        before = text[: text.index("\x00")]
        line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise ScenarioError([problem((file, line, column), (), "text without NUL bytes", Said("a NUL byte"))])
    parsed = _fast_parse(text, file) if fast else None
    if parsed is not None:
        return parsed
    loader = CoreLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([problem((file, 1, 1), (), "a mapping of scenario keys", Said("an empty document"))])
        marks: dict[Path_, Mark] = {(): _mark(file, node.start_mark)}
        data = _build(loader, node, (), marks, file, 0)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        context = e.context
        if (context and context.startswith("while") and e.context_mark and e.problem_mark
                and e.context_mark.line != e.problem_mark.line):
            context += f" started on line {e.context_mark.line + 1},"  # e.g. an unclosed bracket
        message = " ".join(str(p) for p in (context, e.problem) if p)
        raise ScenarioError([problem(_mark(file, mark), "<yaml>", "valid YAML: " + message, show_got=False)]) from None
    except yaml.YAMLError as e:
        raise ScenarioError([problem((file, 1, 1), "<yaml>", f"valid YAML: {e}", show_got=False)]) from None
    except RecursionError:
        raise ScenarioError([problem((file, 1, 1), "<yaml>", f"nesting at most {MAX_DEPTH} levels deep",
                                     show_got=False)]) from None
    finally:
        loader.dispose()
    return data, marks


def _fast_parse(text: str, file: str) -> tuple[Any, dict[Path_, Mark]] | None:
    """parse_yaml with libyaml, or None when the document needs CoreLoader's words."""
    loader = FastCoreLoader(text)
    try:
        node = loader.get_single_node()
        if node is None or _has_alias(node):
            return None
        marks: dict[Path_, Mark] = {(): _mark(file, node.start_mark)}
        return _build(loader, node, (), marks, file, 0), marks
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()


def _has_alias(root) -> bool:
    """An alias composes to the very node of its anchor: a node met twice."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, MappingNode):
            stack += [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            stack += node.value
    return False


def _build(loader, node, path: Path_, marks, file: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ScenarioError([problem(_mark(file, node.start_mark), path, f"nesting at most {MAX_DEPTH} levels deep",
                                     show_got=False)])
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:null":
                raise ScenarioError([problem(_mark(file, key_node.start_mark), path, "plain keys (text or numbers)",
                                             Said(_key_kind(key_node)))])
            key = str(_scalar(loader, key_node, path, file))
            if key in out:
                first = marks[path + (key,)][1]
                raise ScenarioError([problem(_mark(file, key_node.start_mark), path + (key,),
                                             f"each key once (first defined on line {first})", "a duplicate key",
                                             show_got=False)])
            marks[path + (key,)] = _mark(file, key_node.start_mark)
            out[key] = _build(loader, value_node, path + (key,), marks, file, depth + 1)
        return out
    if isinstance(node, SequenceNode):
        items = []
        for i, child in enumerate(node.value):
            marks[path + (str(i),)] = _mark(file, child.start_mark)
            items.append(_build(loader, child, path + (str(i),), marks, file, depth + 1))
        return items
    return _scalar(loader, node, path, file)


def _key_kind(node) -> str:
    if isinstance(node, SequenceNode):
        return "a list as key"
    return "a mapping as key" if isinstance(node, MappingNode) else "null as key"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # not \t, \n


def _scalar(loader, node, path, file):
    try:
        value = loader.construct_object(node, deep=True)
    except ValueError:  # integers longer than Python's digit limit
        digits = sum(c.isdigit() for c in str(node.value))
        expected = f"a number of at most {sys.get_int_max_str_digits()} digits"
        raise ScenarioError([problem(_mark(file, node.start_mark), path, expected, Said(f"{digits} digits"))]) from None
    bad = _CONTROL.search(value) if isinstance(value, str) else None
    if bad:
        # names reach terminals, figures and file names: an escape sequence could clear a screen
        # or forge a `file:line:col` line, a bidi override reverse what is shown
        shown = bad.group(0).encode("unicode_escape").decode("ascii")
        raise ScenarioError([problem(_mark(file, node.start_mark), path, "text without control characters",
                                     Said(f"a {shown}"))])
    return value


# --------------------------------------------------------------------------- files and extends


def read_document(path: Path, chain: tuple[Path, ...] = (),
                  via: tuple[Mark, Path_] | None = None) -> tuple[Any, dict[Path_, Mark]]:
    """Read a scenario file and everything it `extends`, merged, with marks; `via`: the
    `extends` that names this file, where its problems as a parent are told."""
    file = str(path)
    raw = _read_limited(path, via)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError([problem((file, 1, 1), (), "UTF-8 text", Said(f"an undecodable byte at offset {e.start}"))]) from None
    if via is not None and not text.strip(" \t\r\n"):
        raise _not_a_parent(path, via, "an empty document")
    data, marks = parse_yaml(text, file)
    if via is not None:
        _check_parent(path, via, data)
    if not isinstance(data, dict):
        raise ScenarioError([problem((file, 1, 1), (), "a mapping of scenario keys", data)])
    parents = data.pop("extends", None)
    if parents is None:
        return data, marks
    return _extend(path, data, marks, parents, chain + (path.resolve(),))


def _read_limited(path: Path, via: tuple[Mark, Path_] | None) -> bytes:
    """At most MAX_BYTES of a file. A parent must be a regular file, checked before it is opened
    for reading and again once open (a FIFO would block the open, a device never end)."""
    file = str(path)
    where = via or ((file, 1, 1), ())
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | (getattr(os, "O_NONBLOCK", 0) if via else 0)
    try:
        if via is not None:
            _check_regular(path, os.stat(path).st_mode, via)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as f:
            status = os.fstat(f.fileno())
            if via is not None:
                _check_regular(path, status.st_mode, via)
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise ScenarioError([problem(where[0], where[1], "a readable scenario file",
                                     Said(f"{file}: {e.strerror or e}"))]) from None
    if len(raw) > MAX_BYTES:
        size = f"{status.st_size} bytes" if stat.S_ISREG(status.st_mode) else f"more than {MAX_BYTES} bytes"
        shown = Said(f"{file}: {size}" if via else size)
        raise ScenarioError([problem(where[0] if via else (file, 1, 1), where[1], f"a file of at most {MAX_BYTES} bytes",
                                     shown)])
    return raw


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _check_regular(path: Path, mode: int, via: tuple[Mark, Path_]) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise ScenarioError([problem(via[0], via[1], "a regular file", Said(f"{path}: {kind}"))])


def _check_parent(path: Path, via: tuple[Mark, Path_], data: Any) -> None:
    """A parent holds scenario keys; anything else is refused without showing what it holds."""
    from .schema import Scenario

    if isinstance(data, dict) and set(data) & (set(Scenario.model_fields) | {"extends"}):
        return
    kinds = {dict: "a mapping without scenario keys", list: "a list", str: "text"}
    raise _not_a_parent(path, via, kinds.get(type(data), "a single value"))


def _not_a_parent(path: Path, via: tuple[Mark, Path_], kind: str) -> ScenarioError:
    return ScenarioError([problem(via[0], via[1], "a scenario file", Said(f"{path}: {kind}"))])


def _extend(path: Path, data, marks, parents, chain):
    key = ("extends",)
    mark = marks[key]
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ScenarioError([problem(mark, key, "a relative path or a list of paths", parents)])
    if len(chain) > MAX_EXTENDS:
        raise ScenarioError([problem(mark, key, f"at most {MAX_EXTENDS} levels of extends", len(chain))])
    merged, merged_marks = {}, {}
    for parent in parents:
        target = parent_path(path, parent)
        if target in chain:
            cycle = " -> ".join(p.name for p in chain + (target,))
            raise ScenarioError([problem(mark, key, "extends without a cycle", Said(cycle))])
        base, base_marks = read_document(target, chain, via=(mark, key))
        merged, merged_marks = merge(merged, merged_marks, base, base_marks)
    return merge(merged, merged_marks, data, {k: v for k, v in marks.items() if k != key})


def parent_path(path: Path, parent: str) -> Path:
    """What `extends: parent` in `path` names: a path relative to the file's folder (or
    absolute); where there is no such file, a shipped scenario of that name."""
    target = path.parent / parent
    if not os.path.lexists(target):
        target = packaged_scenario(parent) or target
    return target.resolve()


def merge(base: dict, base_marks: dict, over: dict, over_marks: dict, path: Path_ = ()) -> tuple[dict, dict]:
    """Deep-merge mappings; anything else (lists included) in `over` replaces what `base` had."""
    out = dict(base)
    marks = dict(base_marks) if not path else base_marks
    for key, value in over.items():
        sub = path + (key,)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key], _ = merge(out[key], marks, value, over_marks, sub)
            marks[sub] = over_marks.get(sub, marks.get(sub))
        else:
            _drop_under(marks, sub)
            out[key] = value
            marks.update({k: m for k, m in over_marks.items() if k[: len(sub)] == sub})
    if not path:
        marks.update({k: m for k, m in over_marks.items() if k not in marks})
    return out, marks


def _drop_under(marks: dict, prefix: Path_) -> None:
    for k in [k for k in marks if k[: len(prefix)] == prefix]:
        del marks[k]


# --------------------------------------------------------------------------- --set


def apply_sets(data: dict, marks: dict, sets: list[str] | tuple[str, ...]) -> None:
    """Apply `dotted.key=value` overrides in place; the value is read as YAML 1.2."""
    problems = []
    for n, text in enumerate(sets, start=1):
        try:
            _apply_set(data, marks, text, n)
        except ScenarioError as e:
            problems.extend(e.problems)
    if problems:
        raise ScenarioError(problems)


def _apply_set(data, marks, text: str, n: int) -> None:
    from .schema import Scenario

    key, sep, value_text = text.partition("=")
    mark = (SET_SOURCE, n, 1)
    path = tuple(key.strip().split("."))
    if not sep or not key.strip() or "" in path:
        raise ScenarioError([problem(mark, key.strip() or "<key>", "KEY=VALUE with a dotted key", text)])
    value, value_marks = parse_yaml(value_text, SET_SOURCE) if value_text.strip() else (None, {(): mark})
    value_mark = (SET_SOURCE, n, len(key) + 2)
    node: Any = data
    for depth, name in enumerate(path[:-1]):
        allowed = known_keys(Scenario, data, path[:depth])
        child = node.get(name) if isinstance(node, dict) else _list_get(node, name)
        if child is None and isinstance(node, list):
            raise ScenarioError([problem(mark, path[: depth + 1], f"a list index below {len(node)}", name)])
        if child is None:
            if allowed is not None and name not in allowed:
                raise ScenarioError([problem(mark, path[: depth + 1], did_you_mean(name, allowed), name)])
            child = {}
            if isinstance(node, dict):
                node[name] = child
        if not isinstance(child, (dict, list)):
            raise ScenarioError([problem(mark, path[: depth + 1], "a mapping or list to set a key in", child)])
        node = child
    last = path[-1]
    allowed = known_keys(Scenario, data, path[:-1])
    if isinstance(node, list):
        if _list_get(node, last) is None and not (last.isdigit() and int(last) < len(node)):
            raise ScenarioError([problem(mark, path, f"a list index below {len(node)}", last)])
        node[int(last)] = value
    else:
        if last not in node and allowed is not None and last not in allowed:
            raise ScenarioError([problem(mark, path, did_you_mean(last, allowed), last)])
        node[last] = value
    _drop_under(marks, path)
    for sub, m in value_marks.items():
        marks[path + sub] = value_mark if not sub else (SET_SOURCE, n, len(key) + 1 + m[2])


def _list_get(node, name):
    if isinstance(node, list) and name.isdigit() and int(name) < len(node):
        return node[int(name)]
    return None


def did_you_mean(name: str, allowed) -> str:
    close = difflib.get_close_matches(name, sorted(allowed), n=3, cutoff=0.6)
    if close:
        return "a known key; did you mean " + " or ".join(close) + "?"
    return "a known key (" + ", ".join(sorted(allowed)[:10]) + (", ..." if len(allowed) > 10 else "") + ")"


def known_keys(model, data, path: Path_) -> set[str] | None:
    """Keys allowed at `path`: a model's fields, the ids present in a mapping, or None if free."""
    from .schema import free_key_paths

    node_type: Any = model
    node: Any = data
    for name in path:
        fields = _fields(node_type)
        if fields is not None:
            node_type = fields.get(name)
        else:
            node_type = _dict_value_type(node_type)
        node = node.get(name) if isinstance(node, dict) else None
    fields = _fields(node_type)
    if fields is not None:
        return set(fields) | (set(node) if isinstance(node, dict) else set())
    if path and free_key_paths(path):
        return None
    return set(node) if isinstance(node, dict) else None


def _fields(tp) -> dict[str, Any] | None:
    """Model fields of `tp` (a union of models gives the union of their fields)."""

    out: dict[str, Any] = {}
    for cls in _models_in(tp):
        out.update({name: f.annotation for name, f in cls.model_fields.items()})
    return out or None if _models_in(tp) else None


def _models_in(tp) -> list:
    from typing import get_args, get_origin

    from pydantic import BaseModel

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if get_origin(tp) in (dict, list, tuple):  # containers of models are not models
        return []
    found = []
    for arg in get_args(tp):
        found.extend(_models_in(arg))
    return found


def _dict_value_type(tp):
    from typing import get_args, get_origin

    if get_origin(tp) is dict:
        return get_args(tp)[1]
    for arg in get_args(tp):
        inner = _dict_value_type(arg)
        if inner is not None:
            return inner
    return None


# --------------------------------------------------------------------------- packaged scenarios


def packaged_scenario(name: str) -> Path | None:
    """The path of a scenario shipped with simcenter (`baseline` or `baseline.yaml`)."""
    stem = name[:-5] if name.endswith(".yaml") else name
    if "/" in stem or "\\" in stem:
        return None
    resource = importlib.resources.files("simcenter.scenarios") / f"{stem}.yaml"
    return Path(str(resource)) if resource.is_file() else None


def scenario_path(name: str | Path | None) -> Path:
    if name is None:
        return packaged_scenario("baseline")  # type: ignore[return-value]
    path = Path(name)
    if path.exists():
        return path
    return packaged_scenario(str(name)) or path


# --------------------------------------------------------------------------- validation


def validate(data: dict, marks: dict, file: str):
    """The scenario contract and its cross-field checks, every problem located; the `reforms:`
    list is checked and applied by simcenter.resolve, which knows the levers."""
    from pydantic import ValidationError

    from .schema import Scenario, cross_field_problems

    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as e:
        errors = most_specific(e.errors(), marks, data)
        raise ScenarioError(sorted({pydantic_problem(err, data, marks, file) for err in errors}, key=line_order)) from None
    problems = [problem(locate(loc, marks, file, data)[1], locate(loc, marks, file, data)[0], expected, got)
                for loc, expected, got in cross_field_problems(scenario)]
    if problems:
        raise ScenarioError(sorted(set(problems), key=line_order))
    return scenario


def most_specific(errors: list[dict], marks: dict, data: Any = None) -> list[dict]:
    """A value that fails every branch of a union errs once per branch: keep the deepest."""
    locs = [locate(err["loc"], marks, "", data)[0] for err in errors]
    return [err for err, loc in zip(errors, locs)
            if not any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)]


def line_order(line: str):
    file, _, rest = line.partition(":")
    row, _, rest = rest.partition(":")
    col, _, rest = rest.partition(":")
    return (file, int(row) if row.isdigit() else 0, int(col) if col.isdigit() else 0, rest)


def locate(loc, marks, file, data: Any = None) -> tuple[Path_, Mark]:
    """Clean pydantic's loc (drop union tags) and find the closest mark in the file."""
    path = key_path(loc, data)
    found: Path_ = ()
    i = 0
    while i < len(path):
        if found + (path[i],) in marks:
            found, i = found + (path[i],), i + 1
        elif i + 1 < len(path) and found + (path[i + 1],) in marks:  # a key the file leaves out (shorthand)
            found, i = found + (path[i + 1],), i + 2
        else:
            break
    return path, marks.get(found, (file, 1, 1))


def key_path(loc, data: Any = None) -> Path_:
    """pydantic's loc as a key path: without the steps it adds inside unions (a distribution's
    kind, `function-after[...]`, `list[...]`). With the data the loc walks through, a key of the
    same spelling (`exponential:`, `windows[0]:`) stays: keys are told from tags by the data."""
    from .schema import DIST_KINDS

    path: list[str] = []
    node, tagged = data, None
    for part in loc:
        text = str(part)
        if data is not None and isinstance(node, dict) and node is not tagged and node.get("dist") == text:
            tagged = node  # the discriminated union's tag: once per distribution
        elif data is not None and isinstance(node, dict) and text in node:
            path.append(text)
            node = node[text]
        elif data is not None and isinstance(node, list) and text.isdigit() and int(text) < len(node):
            path.append(text)
            node = node[int(text)]
        elif not (text in DIST_KINDS or "[" in text or text.startswith("function-")):
            path.append(text)
            node = None
    return tuple(path)


def pydantic_problem(err: dict, data: dict, marks: dict, file: str, levers: dict | None = None) -> str:
    """One located line for a pydantic error; `levers` (name → lever with `params`) suggests a
    lever's parameter names."""
    from .schema import DIST_KINDS, Scenario

    path, mark = locate(err["loc"], marks, file, data)
    kind, got = err["type"], err.get("input")
    if kind == "missing":
        return problem(mark, path, "a value for this required key", show_got=False) + " (got nothing)"
    if kind == "extra_forbidden":
        path = path or (str(err["loc"][-1]),)  # never empty: the key itself is the problem
        if path[0] == "reforms" and len(path) >= 4 and levers:  # a lever's parameter
            allowed = set(known_keys(levers[path[2]].params, {}, path[3:-1]) or ())
        else:
            allowed = known_keys(Scenario, data, path[:-1]) or set()
        allowed = {k for k in allowed if k != path[-1]}
        return problem(mark, path, did_you_mean(path[-1], allowed) if allowed else "no such key", path[-1])
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return problem(mark, path, "a distribution {dist: " + "|".join(DIST_KINDS) + ", ...} or a number", got)
    return problem(mark, path, _plain(err["msg"]), got)


def _plain(msg: str) -> str:
    msg = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping", msg)
    msg = msg.replace("a valid list", "a list").replace("Input should be", "should be")
    msg = msg.replace("Value error, ", "")
    return msg[0].lower() + msg[1:] if msg else msg
