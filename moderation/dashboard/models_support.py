"""What the models page needs besides routes: the app's model registry, the learning settings form
and candidates' comparison reports turned into rows an HTML table can show.

Validation of the settings stays in ``LearningSettings``; the form only types the numbers (two are
typed in percent, as thresholds are elsewhere) and puts each message next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from moderation.dashboard import labels
from moderation.errors import ValidationError
from moderation.extensions import resources
from moderation.services.learning import SCHEDULES, LearningSettings
from moderation.services.learning_report import SECTIONS

if TYPE_CHECKING:
    from moderation.scoring.registry import ModelRegistry


SCHEDULE_LABELS = {"off": _l("Off"), "daily": _l("Every day"), "weekly": _l("Every week")}
STATUS_LABELS = {
    "candidate": _l("candidate"),
    "refused": _l("refused by the guard"),
    "live": _l("live"),
    "retired": _l("retired"),
}
DECISION_LABELS = {"publish": _l("publish"), "review": _l("hold"), "reject": _l("reject")}
#: Label values per attribute (``Label.value``): 0/1, and hate speech's three classes.
VALUE_LABELS = {
    "hate_speech": {"0": _l("clean"), "1": _l("offensive"), "2": _l("hate")},
    "default": {"0": _l("acceptable"), "1": _l("violating")},
}
#: Names of the figures of a report: attributes, and the public test set's offending spans.
FIGURE_NAMES = {**labels.ATTRIBUTES, "spans": _l("Offending spans")}
#: Form fields typed in percent, stored as fractions.
PERCENT_FIELDS = ("tolerance", "holdout")
FIELD_HINTS = {
    "schedule": _l("not one of the choices"),
    "min_labels": _l("a whole number from 10 to 100000"),
    "weight": _l("a number from 0.1 to 100"),
    "tolerance": _l("a number from 0 to 50 (percentage points)"),
    "holdout": _l("a number from 10 to 50 (%)"),
    "auto_promote": _l("must be true or false"),
}


def registry() -> ModelRegistry:
    """The app's registry of model versions (``Resources.models``)."""
    return resources().models()


def _number(raw: str) -> float:
    return float(raw.replace(",", ".").strip())


def learning_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings dict of the form, and typing errors per field."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "schedule": form.get("schedule") or "",
        "auto_promote": form.get("auto_promote") == "on",
    }
    for name in ("min_labels", "weight", *PERCENT_FIELDS):
        raw = (form.get(name) or "").strip()
        try:
            value = _number(raw)
        except ValueError:
            errors[name] = str(FIELD_HINTS[name])
            continue
        if name == "min_labels":
            if value != int(value):
                errors[name] = str(FIELD_HINTS[name])
                continue
            data[name] = int(value)
        else:
            data[name] = round(value / 100, 6) if name in PERCENT_FIELDS else value
    if data["schedule"] not in SCHEDULES:
        errors["schedule"] = str(FIELD_HINTS["schedule"])
    try:  # every bad field at once: ranges too, even when another field could not be read
        LearningSettings.from_dict({k: v for k, v in data.items() if k not in errors})
    except ValidationError as exc:
        errors.update({k: v for k, v in service_errors(exc.fields).items() if k not in errors})
    return data, errors


def service_errors(fields: Mapping[str, str]) -> dict[str, str]:
    """The service's field errors, as the form's own hints (the form's units differ)."""
    return {name: str(FIELD_HINTS.get(name, _l("not one of the choices"))) for name in fields}


def form_values(settings: LearningSettings) -> dict[str, str]:
    return {
        "schedule": settings.schedule,
        "min_labels": str(settings.min_labels),
        "weight": f"{settings.weight:g}",
        "tolerance": f"{settings.tolerance * 100:g}",
        "holdout": f"{settings.holdout * 100:g}",
    }


@dataclass(frozen=True)
class ReportRow:
    """One figure of a comparison: the live model's value, the candidate's, and the change."""

    section: str
    name: str
    figure: str
    n: int | None
    current: float | None
    candidate: float | None
    regression: bool

    @property
    def change(self) -> float | None:
        if self.current is None or self.candidate is None:
            return None
        return round(self.candidate - self.current, 4)


def _value(item: Any, key: str) -> float | None:
    value = item.get(key) if isinstance(item, dict) else item
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def report_rows(report: Mapping[str, Any] | None) -> list[ReportRow]:
    """Every figure of a report, held-out ones first; a figure the guard counted as worse is marked."""
    if not isinstance(report, Mapping):
        return []
    guard = report.get("guard") or {}
    worse = {str(e.get("metric")) for e in guard.get("regressions") or [] if isinstance(e, dict)}
    current, candidate = report.get("current") or {}, report.get("candidate") or {}
    rows: list[ReportRow] = []
    for section, title in SECTIONS:
        before, after = current.get(section) or {}, candidate.get(section) or {}
        for name, figures in after.items():
            figure_names = ("macro_f1", "agreement") if isinstance(figures, dict) else ("f1",)
            for figure in figure_names:
                key = "macro_f1" if figure == "f1" else figure
                rows.append(
                    ReportRow(
                        section=section,
                        name=str(name),
                        figure=figure,
                        n=figures.get("n") if isinstance(figures, dict) else None,
                        current=_value(before.get(name), key),
                        candidate=_value(figures, key),
                        regression=figure != "agreement" and f"{title} {name}" in worse,
                    )
                )
    return rows


def label_rows(summary: Mapping[str, Mapping[str, int]]) -> list[tuple[str, list[tuple[str, int]]]]:
    """(attribute, [(value label, count)]) for the label counts, attributes in a stable order."""
    rows = []
    for attribute in sorted(summary):
        names = VALUE_LABELS.get(attribute, VALUE_LABELS["default"])
        counts = summary[attribute]
        rows.append((attribute, [(str(names.get(value, value)), counts[value]) for value in sorted(counts)]))
    return rows


def model_thresholds(version: str | None) -> tuple[str, dict[str, float]] | None:
    """The version a site scores with and its manifest's tuned thresholds (what a policy left empty
    uses), read from manifest.json alone: the policy page must not load a model into the web process.
    None when the models are not installed."""
    import json

    from moderation.errors import ModelArtifactError
    from moderation.scoring.artifact import MANIFEST, resolve_version_dir

    models = registry()
    try:
        directory = models.version_dir(version) if version else resolve_version_dir(models.model_dir)
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (ModelArtifactError, OSError, ValueError):
        return None
    raw = manifest.get("thresholds") or {}
    return str(manifest.get("version", directory.name)), {k: float(v) for k, v in raw.items()}
