"""The page: blocks (what the template renders), the figures inlined as SVG, and the jinja render
of templates/report.html.j2 with its Content-Security-Policy, warnings box and footer."""

from __future__ import annotations

import re

from ..resultsdir import ResultsDir

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

SECTIONS = (
    ("decision", "Decision: the reforms ranked"),  # a comparison's only (`section_keys`)
    ("findings", "Findings"),
    ("comparison", "Comparison"),
    ("waits", "Waiting at the centre"),
    ("run-at-most-once", "Run at most once: trips per case"),
    ("lead-times", "Lead times and back offices"),
    ("resources", "Resources"),
    ("townships", "Townships"),
    ("assumptions", "Assumptions and provenance of the data"),
    ("manifest", "Manifest: how these results were made"),
)

# Which section shows the figures of each kind of simcenter.plots (others: comparison).
FIGURE_SECTION = {
    "compare": "comparison", "sweep": "comparison", "township-effects": "decision", "waits": "waits", "by-hour": "waits",
    "trips": "run-at-most-once", "lead-times": "lead-times", "utilization": "resources",
    "townships": "townships",
}


# --- blocks: what the template renders ------------------------------------------------------------

def P(text: str, cls: str | None = None) -> dict:  # noqa: N802 - small constructors read like the HTML
    return {"type": "p", "text": text, "cls": cls}


def H3(text: str) -> dict:  # noqa: N802
    return {"type": "h3", "text": text}


def UL(items: list[str]) -> dict:  # noqa: N802
    return {"type": "ul", "items": items}


def cell(text: str, sub: str = "", cls: str = "") -> dict:
    return {"text": text, "sub": sub, "cls": cls}


def TABLE(head: list[str], rows: list[list[dict]], caption: str = "", left: int = 1) -> dict:  # noqa: N802
    """`left` leading columns are text; the others are numbers (right-aligned)."""
    return {"type": "table", "head": head, "rows": rows, "caption": caption, "left": left}


def DETAILS(summary: str, blocks: list[dict], open_: bool = False) -> dict:  # noqa: N802
    return {"type": "details", "summary": summary, "blocks": blocks, "open": open_}


def DL(items: list[tuple[str, str]]) -> dict:  # noqa: N802
    return {"type": "dl", "items": items}


def section_keys(results: ResultsDir) -> list[str]:
    """The sections of the report: the decision section first for a comparison with reforms only."""
    keep = results.kind == "compare" and bool(results.reforms)
    return [key for key, _ in SECTIONS if key != "decision" or keep]


def warnings_of(manifest: dict) -> list[str]:
    """The manifest's `warnings`: a list of lines (a single string is one line); absent: none."""
    lines = manifest.get("warnings") or []
    if isinstance(lines, str):
        lines = [lines]
    return [str(line) for line in lines if str(line).strip()] if isinstance(lines, list) else [str(lines)]


# --- figures --------------------------------------------------------------------------------------

def figures(results: ResultsDir, sections: dict) -> None:
    """The figures that suit the directory (simcenter.plots, drawn from the same ResultsDir), each in its section."""
    from .. import plots

    for kind in plots.default_kinds(results):
        fig = plots.KINDS[kind](results, None)
        title = figure_title(fig) or kind
        section = FIGURE_SECTION.get(kind, "comparison")
        sections[section].append({"type": "figure", "id": f"figure-{kind}", "title": title,
                                  "svg": svg(fig, kind, title)})


def figure_title(fig) -> str:
    try:
        return fig.get_suptitle()
    except AttributeError:  # matplotlib < 3.8
        return fig._suptitle.get_text() if fig._suptitle is not None else ""


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_ID = re.compile(r'\bid="([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'((?:xlink:)?href)="#([^"]+)"')


def svg(fig, name: str, title: str):
    """The figure as inline SVG: no prolog, comment or metadata (they hold URLs), ids prefixed."""
    from markupsafe import Markup, escape

    from ..plots import svg_bytes

    text = svg_bytes(fig, name).decode("utf-8")
    text = _PROLOG.sub("", text, count=1)
    text = _COMMENT.sub("", text)
    text = _METADATA.sub("", text)
    # inline SVG in HTML gets its namespaces from the parser; dropping them leaves no URL in the page
    head_end = text.index(">")
    text = _XMLNS.sub("", text[:head_end]) + text[head_end:]
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", name) + "-"
    text = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = _URL_REF.sub(lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"', text)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
    return Markup(text.strip())


# --- rendering ------------------------------------------------------------------------------------

def render(results: ResultsDir, sections: dict, warnings: list[str] = ()) -> str:
    """The page; `warnings`: lines shown after the manifest's, in the warnings box above everything."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("simcenter.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    m = results.manifest
    if results.kind == "sweep":
        name = m.get("experiment", {}).get("name", "")
        title = f"Sweep {name}"
        subject = f"{len(results.groups)} points"
        hashes = f"experiment sha256 {str(m.get('experiment', {}).get('sha256', ''))[:12]}"
    elif results.kind == "compare":
        reforms = len(results.groups) - 1
        title = f"{results.groups[0]} against {reforms} reform{'s' if reforms != 1 else ''}" if reforms \
            else results.groups[0]
        subject = f"{len(results.groups)} scenarios"
        hashes = ("scenario sha256 " + ", ".join(str(s.get("sha256", ""))[:12] for s in m.get("scenarios", [])[:3])
                  + (", …" if len(m.get("scenarios", [])) > 3 else ""))
    else:
        title = results.groups[0]
        subject = "1 scenario"
        hashes = "scenario sha256 " + ", ".join(str(s.get("sha256", ""))[:12] for s in m.get("scenarios", []))
    seeds = sorted({str(s.get("seed")) for s in m.get("scenarios", []) if isinstance(s, dict)}) or \
        ([str(m["seed"])] if "seed" in m else [])
    replications = m.get("replications")
    footer = [
        f"{m.get('tool', 'simcenter')} {m.get('version', '?')}",
        f"{results.kind}, {subject}",
        f"seed {', '.join(seeds) or '?'}",
        f"{replications} replications" if not isinstance(replications, dict) else "replications: auto",
        hashes,
        f"created {m.get('created_utc', '?')}",
    ]
    return env.get_template("report.html.j2").render(
        csp=CSP, title=f"simcenter report: {title}", kind=results.kind, warnings=warnings_of(m) + list(warnings),
        sections=[{"id": key, "title": heading, "blocks": sections[key]} for key, heading in SECTIONS
                  if key in section_keys(results)],
        footer=footer,
    )
