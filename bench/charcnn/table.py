"""The README's tables, printed from results/*.json (nothing is computed here).

.venv/bin/python bench/charcnn/table.py
"""

from __future__ import annotations

import json

import common


def _ci(d: dict) -> str:
    lo, hi = d["ci95"]
    return f"[{lo:.4f}, {hi:.4f}]"


def _diff(d: dict) -> str:
    lo, hi = d["ci95"]
    noise = " (noise)" if lo <= 0 <= hi else ""
    return f"{d['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}]{noise}"


def main() -> None:
    print(
        "| attribute (n) | view | shipped LR, refitted per fold | char-CNN | blend "
        "| blend - shipped | CNN - shipped |"
    )
    print("|---|---|---|---|---|---|---|")
    for path in sorted(common.RESULTS.glob("compare_*.json")):
        r = json.loads(path.read_text())
        label = r["attribute"] + (f" (CNN {r['cnn_variant']})" if r.get("cnn_variant") else "")
        for view in ("original", "stripped"):
            s = r["systems"]
            cells = [f"{s[k][view]['macro_f1']:.4f} {_ci(s[k][view])}" for k in ("shipped", "cnn", "blend")]
            d = r["differences"]
            print(
                f"| {label} ({r['n']}) | {view} | {' | '.join(cells)} | "
                f"{_diff(d['blend_minus_shipped'][view])} | {_diff(d['cnn_minus_shipped'][view])} |"
            )
    print()
    print("Blend weight w of the shipped model chosen per outer fold (selection on the other folds):")
    for path in sorted(common.RESULTS.glob("compare_*.json")):
        r = json.loads(path.read_text())
        ws = [c["w"] for c in r["chosen"]["blend"]]
        print(f"- {path.stem}: {ws}")
    print()
    repro = json.loads((common.RESULTS / "shipped_repro.json").read_text())
    print("| attribute | reproduced OOF macro-F1 [95%] | manifest | stripped reproduced | manifest |")
    print("|---|---|---|---|---|")
    for name, r in repro.items():
        print(
            f"| {name} | {r['macro_f1']:.4f} {r['macro_f1_ci95']} | {r['manifest_macro_f1']:.4f} "
            f"{r['manifest_macro_f1_ci95']} | {r['macro_f1_stripped']:.4f} "
            f"| {r['manifest_macro_f1_stripped']:.4f} |"
        )
    print()
    speed = json.loads((common.RESULTS / "speed.json").read_text())
    print(
        "| model | parameters | weights (float32 npz) | numpy batched | numpy per text | torch "
        "| max diff vs torch |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, s in speed.items():
        diff = max(s["max_abs_diff_batched_vs_torch"], s["max_abs_diff_per_text_vs_torch"])
        print(
            f"| {name} | {s['parameters']:,} | {s['weights_mb_float32_npz']} MB | "
            f"{s['numpy_batched_comments_per_s']:,}/s | {s['numpy_per_text_comments_per_s']:,}/s | "
            f"{s['torch_comments_per_s']:,}/s | {diff:.1e} |"
        )
    print()
    for path in sorted(common.RESULTS.glob("cnn_*.json")):
        r = json.loads(path.read_text())
        epochs = [f["best_epoch"] for f in r["folds"]]
        print(f"- {path.stem}: {r['seconds'] / 60:.1f} min for {len(r['folds'])} folds, best epochs {epochs}")
    seconds = {name: r["seconds"] for name, r in repro.items()}
    print(f"- shipped_oof: {seconds}")


if __name__ == "__main__":
    main()
