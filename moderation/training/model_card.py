"""``MODEL_CARD.md``: what the models do, what they were trained on, how well, and where they fail."""

from __future__ import annotations

from typing import Any

CITATIONS = """\
- **UIT-ViHSD** — Son T. Luu, Kiet Van Nguyen, Ngan Luu-Thuy Nguyen. *A Large-scale Dataset for Hate
  Speech Detection on Vietnamese Social Media Texts.* IEA/AIE 2021. arXiv:2103.11528.
- **UIT-ViCTSD** — Luan Thanh Nguyen, Kiet Van Nguyen, Ngan Luu-Thuy Nguyen. *Constructive and Toxic
  Speech Detection for Open-domain Social Media Comments in Vietnamese.* IEA/AIE 2021. arXiv:2103.10069.
- **ViHOS** — Phu Gia Hoang et al. *ViHOS: Hate Speech Spans Detection for Vietnamese.* EACL 2023.
  arXiv:2301.10186 (MIT licence).
- **ViSpamReviews** — Co Van Dinh et al. *Detecting Spam Reviews on Vietnamese E-commerce Websites.*
  ACIIDS 2022. arXiv:2207.14636.
- **ViLexNorm** — Thanh-Nhi Nguyen et al. *ViLexNorm: A Lexical Normalization Corpus for Vietnamese
  Social Media Text.* EACL 2024 (CC BY-NC-SA 4.0). Only a derived spelling table
  (`moderation/data/teencode.tsv`, teencode → word) is shipped, not the corpus.
- **vn-badwords** — swear-word list from the npm package vn-badwords, MIT licence
  (`moderation/data/vn-badwords-LICENSE`).
"""

WEAKNESSES = """\
- Bag-of-n-grams linear models: no word order beyond bigrams/trigrams, no sarcasm, no context of the
  article or of the thread. Hate speech and toxicity are hard to tell apart from heated but legitimate
  political comments.
- Thresholds and C were tuned on the same dev splits these metrics are reported on: the dev figures
  are optimistic; the held-out test splits are measured from outside the project.
- About 85% of the ViHOS dev comments also appear in the ViHSD train split (both come from the same
  source). The span tagger has not seen them, but the hate model, whose score gates the spans, has:
  the span figure on the ViHOS dev comments that are not in ViHSD train is the fairer one.
- Scores come from class-balanced logistic regressions: they rank well but are not calibrated
  probabilities. Compare them with the thresholds in the manifest, not with 0.5.
- Spam: the only labelled spam is e-commerce review spam (ViSpamReviews SpamLabel 3: ads, gibberish,
  unrelated text). News-site scams (betting, loans, fake jobs) are mostly caught by the rules (links,
  phone numbers, chat handles), not by the model. The spam threshold is set so that the model flags at
  most 0.5% of clean ViCTSD / ViHSD dev comments.
- Spans: a token tagger; it marks whole tokens (ViHOS marks characters) and misses offensive words it
  has never seen unless they are in the swear-word list. It is trained on ViHOS train plus non-toxic
  ViCTSD train comments as negatives, and runs only when max(1 − P(clean), toxicity) ≥ the gate in
  the model file: a span in an otherwise clean-looking comment is not reported.
- Text typed without accents is ambiguous, and the models read it the way social-media comments
  use it: "lon" (lớn, big / lồn, obscene) or "cho" (cho, give / chó, dog) can make an innocent
  unaccented comment look offensive ("du an lon"). The same words typed with accents are unambiguous
  for the span tagger; the attribute models see both the accented and the folded forms.
- Toxicity is trained on ViCTSD plus, at weight 0.1, ViHSD (offensive or hate counted as toxic),
  because ViCTSD news comments contain little plain swearing ("Thằng chó này ngu như bò" scored 0.37
  without it). In our runs this cost about 0.9 points of ViCTSD dev macro-F1 on accented text and
  gained 0.3 on stripped text.
- Dialects, code-mixing with English and new slang drift over time; the teencode table is small
  (derived from ViLexNorm train, about 93% precise on ViLexNorm dev).
"""


def _metrics_rows(metrics: dict[str, Any]) -> str:
    rows = ["| attribute | dev set | n | macro-F1 | stripped of diacritics |", "|---|---|---|---|---|"]
    for name in ("toxicity", "constructive", "hate_speech", "spam"):
        m = metrics[name]
        rows.append(
            f"| {name} | {m['dataset']} | {m['n']} | {m['macro_f1']:.4f} | {m['macro_f1_stripped']:.4f} |"
        )
    s = metrics["spans"]
    rows.append(
        f"| spans (character macro-F1) | {s['dataset']} | {s['n']} | {s['char_macro_f1']:.4f} | "
        f"{s['char_macro_f1_stripped']:.4f} (n={s['n_stripped']}) |"
    )
    return "\n".join(rows)


def render_model_card(manifest: dict[str, Any]) -> str:
    m = manifest["dev_metrics"]
    sm = m["spam"]
    d = m["default_policy_victsd_dev"]
    th = manifest["thresholds"]
    libs = ", ".join(f"{k} {v}" for k, v in manifest["libraries"].items())
    data_rows = "\n".join(
        f"| {e['file']} | {e['corpus']} | {e['use']} | {e['rows']} |" for e in manifest["training_data"]
    )
    fz = manifest["featurizer"]
    return f"""# Model card: Vietnamese comment moderation models {manifest["version"]}

Created {manifest["created_at"]} with {libs}. Trained by `moderation train` in
{manifest["training_seconds"]} s; reproduce with the same command and datasets.

## What the models say
- `toxicity`: rude, disrespectful or unreasonable (the sense of UIT-ViCTSD; news comments).
- `hate_speech`: `clean`, `offensive` or `hate` (the sense of UIT-ViHSD; social-media comments).
- `spam`: ads, gibberish, unrelated promotion (ViSpamReviews SpamLabel 3, with news comments as
  negatives); links, phone numbers and chat handles are reported by rules, not by this score.
- `constructive`: adds reasons, evidence or a useful point (UIT-ViCTSD); for editors, not for holding.
- `spans`: the hate or offensive stretches of a comment (the sense of ViHOS), as offsets into the
  original text.

## How
Every comment is normalised once (NFKC, lower case, one tone placement, stretched and split letters
undone, teencode expanded, links and numbers replaced by placeholder words). One set of hashed
TF-IDF features — character 2-5-grams and word n-grams, of the text and of its diacritic-free fold —
feeds logistic regressions stacked into one coefficient matrix ({fz["n_features"]} features,
float16). Each model is trained on its train split plus a copy of it stripped of diacritics
(toxicity also on ViHSD at a small weight, spam on news comments as negatives). Spans
come from a per-token logistic regression (token, fold, neighbours, swear-word list).

## Training data and terms
The training data came with **research-use terms**: the four corpora are published by their authors
for research and ask to be cited; any use of these models must respect those terms.

| file | corpus | used for | rows |
|---|---|---|---|
{data_rows}

Citations:

{CITATIONS}
## Dev metrics
{_metrics_rows(m)}

Spam on ViSpamReviews dev (SpamLabel 3 vs 0): precision {sm["precision"]:.4f}, recall {sm["recall"]:.4f}.
Spam flags {sm["false_positive_rate_victsd"]:.2%} of ViCTSD dev comments
({sm["false_positive_rate_victsd_stripped"]:.2%} stripped) and {sm["false_positive_rate_vihsd_clean"]:.2%}
of clean ViHSD dev comments ({sm["false_positive_rate_vihsd_clean_stripped"]:.2%} stripped).

Spans: character macro-F1 {m["spans"]["char_macro_f1_not_in_vihsd_train"]:.4f} on the
{m["spans"]["n_not_in_vihsd_train"]} ViHOS dev comments that are not in ViHSD train (the others were
seen by the hate model, which gates the spans); at least one span in
{m["spans"]["victsd_dev_non_toxic_with_spans"]:.2%} of the non-toxic ViCTSD dev comments.

With the default policy, ViCTSD dev: {d["published_share_of_non_toxic"]:.2%} of the non-toxic comments
are published, {d["held_share_of_toxic"]:.2%} of the toxic ones are held or rejected.

Thresholds (tuned on dev): toxicity {th["toxicity"]}, hate_speech (1 − P(clean)) {th["hate_speech"]},
spam {th["spam"]}, constructive {th["constructive"]}.

## Known weaknesses
{WEAKNESSES}"""
