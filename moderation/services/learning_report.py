"""A candidate's comparison report as Markdown: written next to its files, printed, shown to admins."""

from __future__ import annotations

from typing import Any

#: The report's sections (key, title): the title prefixes the guard's metric names. The public
#: figures are out-of-fold ones for the models trained on train + dev, dev ones for the others.
SECTIONS = (
    ("held_out", "site held-out"),
    ("public_cv", "cross-validated"),
    ("public_dev", "public dev"),
)


def render_report(report: dict[str, Any]) -> str:
    """The comparison as a Markdown table (also what ``moderation retrain`` prints)."""
    lines = [
        f"# Candidate {report['version']} against {report['base_version']}",
        "",
        "| figure | live | candidate | change |",
        "|---|---|---|---|",
    ]
    for section, title in SECTIONS:
        current, candidate = report["current"].get(section, {}), report["candidate"].get(section, {})
        for name in candidate:
            before = current.get(name)
            after = candidate[name]
            b = before["macro_f1"] if isinstance(before, dict) else before
            a = after["macro_f1"] if isinstance(after, dict) else after
            n = f" (n={after['n']})" if isinstance(after, dict) else ""
            change = f"{a - b:+.4f}" if b is not None else ""
            lines.append(f"| {title} {name}{n} | {b if b is not None else '-'} | {a} | {change} |")
    guard_info = report["guard"]
    verdict = "passed" if guard_info["passed"] else "refused"
    lines += ["", f"Guard (tolerance {guard_info['tolerance']}): **{verdict}**."]
    for entry in guard_info["regressions"]:
        lines.append(f"- worse: {entry['metric']} {entry['current']} -> {entry['candidate']}")
    labels = report["labels"]
    lines += [
        "",
        f"Site labels: train {labels['train']}, held out {labels['held_out']}; used for "
        f"{', '.join(labels['used'])} (at least {labels['min_labels']} each, weight {labels['weight']}).",
    ]
    return "\n".join(lines) + "\n"
