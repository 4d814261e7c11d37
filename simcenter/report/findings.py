"""The findings section: plain sentences with their intervals, for a run, a comparison and a sweep."""

from __future__ import annotations

import math

from ..kpis import HEADLINE
from ..kpis import kpi as catalogue_entry
from ..resultsdir import ResultsDir
from .render import H3, P, UL
from .wording import cap, ci_words, description_of, difference, factors_text, join_words, label, level_text, \
    replications_text, run_sentence, value


def run(results: ResultsDir, s: dict) -> None:
    """A run: the scenario's headline levels."""
    group = results.groups[0]
    n = results.stat(group, "cases")[3]
    s["findings"] += [
        P(f"Scenario {group}, {n} replication{'s' if n != 1 else ''}: means over the replications with their "
          "95% Student t intervals."),
        UL([run_sentence(results, group, k) for k in HEADLINE if k in results.kpi_names()]),
        P("A run shows one scenario's levels; to know whether a change makes a difference, compare it with a "
          "baseline (simcenter compare), which runs both on the same simulated citizens.", "note"),
    ]


def compare(results: ResultsDir, s: dict) -> None:
    """A comparison: the baseline's levels, then per reform the headline KPIs it changes detectably."""
    baseline = results.groups[0]
    reforms = [g for g in results.groups[1:]]
    rows = {(r["reform"], r["kpi"]): r for r in results.rows("comparison")}
    level = results.comparison_level
    n = results.stat(baseline, "cases")[3]
    findings = s["findings"]
    if not reforms:
        findings += [P(f"Only the baseline {baseline} was run ({n} replications): its levels, with 95% Student t "
                       "intervals."),
                     UL([run_sentence(results, baseline, k) for k in HEADLINE if k in results.kpi_names()])]
    else:
        k = f"{len(reforms)} reform{'s' if len(reforms) != 1 else ''}"
        findings.append(P(
            f"Each of the {k} ran the same {n} replications as the baseline {baseline}, on the same simulated "
            "citizens (common random numbers). A change is reported where the paired t interval of reform − "
            f"baseline excludes 0; each interval is at the {level_text(level)} level (Bonferroni across the {k}, "
            "not across the KPIs). Headline KPIs: " + join_words([label(k) for k in HEADLINE]) + "."))
        findings.append(UL([run_sentence(results, baseline, k) for k in HEADLINE if k in results.kpi_names()]))
        in_table = set(ranked_kpis(results))
        for reform in reforms:
            findings.append(H3(reform))
            description = description_of(results.resolved.get(reform, {}))
            if description:
                findings.append(P(description, "desc"))
            changed, unchanged, untested = [], [], []
            for kpi in HEADLINE:
                r = rows.get((reform, kpi))
                if r is None:
                    continue
                low, high = float(r["ci_low"]), float(r["ci_high"])
                if low != low or high != high:
                    untested.append(label(kpi))
                elif is_significant(r):
                    changed.append((-relative_size(r), len(changed), change_sentence(reform, kpi, r, level,
                                                                                   kpi not in in_table)))
                else:
                    unchanged.append(label(kpi))
            if changed:
                findings.append(P(f"{reform}'s detectable changes, largest first (by the change relative to the "
                                  "baseline's level)" + (
                                      "; the differences and intervals of the ranked table's KPIs are in that table"
                                      if in_table else "") + ":"))
                findings.append(UL([sentence for _, _, sentence in sorted(changed)]))
            else:
                findings.append(P(f"{reform} changes none of the headline KPIs detectably."))
            if unchanged and changed:
                findings.append(P(f"No detectable change in the {join_words(unchanged)}."))
            if untested:
                findings.append(P(f"Not tested (fewer than 2 paired replications): {join_words(untested)}.", "note"))
        findings.append(P("Detectable means the interval excludes 0 at that level: a small or rare effect can be "
                          "missed with few replications, and with many KPIs a few differences can be chance.",
                          "note"))


def is_significant(r: dict) -> bool:
    flag = r.get("significant")
    if isinstance(flag, str):
        return flag.strip().lower() == "true"
    return bool(flag) and flag == flag


def ranked_kpis(results: ResultsDir) -> list[str]:
    from .decision import columns_of

    return columns_of(results)


def relative_size(r: dict) -> float:
    """|difference| over |baseline mean|: the order of the findings (infinite from a baseline of 0)."""
    base, d = abs(float(r["baseline_mean"])), abs(float(r["difference"]))
    return d / base if base else (math.inf if d else 0.0)


def relative_text(r: dict) -> str:
    base, d = float(r["baseline_mean"]), float(r["difference"])
    if not base:
        return "from 0"
    rel = 100 * d / abs(base)
    text = format(abs(rel), ".2f" if abs(rel) < 1 else ".1f" if abs(rel) < 10 else ".0f")
    return ("−" if rel < 0 else "+") + text + "% relative"


def change_sentence(reform: str, kpi: str, r: dict, level: float, with_interval: bool = True) -> str:
    """'S2 lowers the mean wait from 9.4 min to 7.1 min (−24%; −2.3 min, 95% CI −2.9 to −1.7).'; without
    the interval (a KPI of the ranked table) only the relative change."""
    base, new = float(r["baseline_mean"]), float(r["reform_mean"])
    d, lo, hi = difference(kpi, float(r["difference"]), float(r["ci_low"]), float(r["ci_high"]))
    verb = "raises" if float(r["difference"]) > 0 else "lowers"
    same = " (the same in every replication)" if float(r["ci_low"]) == float(r["ci_high"]) else ""
    detail = f"; {d}, {level_text(level)} CI {lo} to {hi}{same}" if with_interval else ""
    return (f"{reform} {verb} the {label(kpi)} from {value(kpi, base)} to {value(kpi, new)} "
            f"({relative_text(r)}{detail}).")


def sweep(results: ResultsDir, s: dict) -> None:
    """A sweep: the best point for each headline KPI, and the factor effects that are detectable."""
    from ..stats import paired_interval

    effects = results.rows("effects")
    manifest = results.manifest
    experiment = manifest.get("experiment", {})
    n_text = replications_text(results)
    s["findings"].append(P(
        f"Experiment {experiment.get('name', '')} ({experiment.get('design', '')} design, {len(results.groups)} "
        f"point{'s' if len(results.groups) != 1 else ''}, {n_text}). Every point ran on the same simulated "
        "citizens (common random numbers), so each is compared with the best point replication by replication "
        "(paired t, 95% each, not adjusted for the number of points)."))
    failed = manifest.get("failed") or {}
    if isinstance(failed, dict) and failed:
        which = "; ".join(f"point {k}: {v}" for k, v in sorted(failed.items(), key=lambda kv: (len(str(kv[0])), str(kv[0]))))
        many = len(failed) != 1
        s["findings"].append(P(f"{len(failed)} point{'s' if many else ''} failed and {'are' if many else 'is'} "
                               f"left out: {which}.", "note"))
    frame = results.kpis
    items = []
    for kpi in HEADLINE:
        if kpi not in results.kpi_names():
            continue
        higher = catalogue_entry(kpi).higher_is_better is True  # neither (staff-hours): the lowest
        means = [(results.stat(g, kpi)[0], g) for g in results.groups if not math.isnan(results.stat(g, kpi)[0])]
        if not means:
            continue
        best = best_of(means, higher)
        mean, low, high, _ = results.stat(best, kpi)
        ci = ci_words(kpi, low, high)
        ours = frame[frame["group"] == best].set_index("replication")[kpi]
        worse, tied = 0, []
        for group in results.groups:
            if group == best:
                continue
            other = frame[frame["group"] == group].set_index("replication")[kpi]
            common = sorted(set(ours.index) & set(other.index))
            _, lo, hi, _ = paired_interval(other.loc[common].to_numpy(float), ours.loc[common].to_numpy(float))
            if lo == lo and (lo > 0 or hi < 0):
                worse += 1
            else:
                tied.append(group)
        word = "highest" if higher else "lowest"
        sentence = (f"{cap(word)} {label(kpi)}: {best} ({factors_text(results.points.get(best, {}))}), "
                    f"{value(kpi, mean)}{ci}.")
        others = len(results.groups) - 1
        if others:
            sentence += f" It is detectably better than {worse} of the {others} other point{'s' if others != 1 else ''}"
            shown = tied if len(tied) <= 8 else tied[:8] + [f"{len(tied) - 8} more"]
            sentence += f"; not detectably better than {join_words(shown)}." if tied else "."
        items.append(sentence)
    s["findings"].append(UL(items) if items else P("None of the headline KPIs is in this sweep."))
    significant = [e for e in effects if excludes_zero(e)]
    if effects:
        s["findings"].append(H3("Factor effects (2^k factorial)"))
        lines = []
        for e in significant:
            kpi = e["kpi"]
            d, lo, hi = difference(kpi, float(e["estimate"]), float(e["ci_low"]), float(e["ci_high"]))
            what = "main effect" if int(e.get("order", 1)) == 1 else "interaction"
            lines.append(f"The {what} of {e['effect']} on the {label(kpi)} (high level minus low level) is {d} "
                         f"(95% CI {lo} to {hi}).")
        s["findings"].append(UL(lines) if lines else P("No effect's 95% interval excludes 0."))
        if len(significant) < len(effects):
            s["findings"].append(P(f"The other {len(effects) - len(significant)} effects are not detectable "
                                   "at 95% (their intervals include 0); see the effects table.", "note"))



def best_of(means: list[tuple[float, str]], higher: bool) -> str:
    """The group with the best mean (the first in order on a tie)."""
    best = means[0]
    for m in means[1:]:
        if (m[0] > best[0]) if higher else (m[0] < best[0]):
            best = m
    return best[1]


def excludes_zero(e: dict) -> bool:
    low, high = float(e["ci_low"]), float(e["ci_high"])
    return low == low and high == high and (low > 0 or high < 0)
