"""The shipped analyzer: behaviour on real Vietnamese comments, the contract's shape, the artifact checks."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from moderation.errors import ModelArtifactError
from moderation.scoring import (
    Analyzer,
    ModelThresholds,
    Policy,
    ScoredText,
    analyze,
    get_analyzer,
    load_analyzer,
    verify_artifact,
)
from moderation.scoring.analyzer import _offsets
from moderation.scoring.artifact import resolve_version_dir
from moderation.scoring.spam import KINDS as SPAM_KINDS
from moderation.scoring.spans import token_keys
from moderation.scoring.types import HATE_LABELS, TEXT_RULES
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.text import tracked

CLEAN = "Bài viết rất hay, cảm ơn tác giả đã phân tích kỹ lưỡng về chính sách giáo dục mới."
ABUSIVE = "Thằng chó này ngu như bò, đm cút mẹ mày đi đồ óc chó"
SCAM = "Vay tiền nhanh không cần thế chấp, lãi suất thấp, ib zalo 0912.345.678 để được hỗ trợ"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return load_analyzer()


def test_loads_the_current_version_with_tuned_thresholds(analyzer: Analyzer) -> None:
    version = (DEFAULT_MODEL_DIR / "CURRENT").read_text().strip()
    assert analyzer.model_version == version == analyzer.manifest["version"]
    assert isinstance(analyzer.thresholds, ModelThresholds)
    assert analyzer.thresholds == ModelThresholds(**analyzer.manifest["thresholds"])
    assert 0 < analyzer.thresholds.spam < 1


def test_abusive_comment_scores_higher_than_clean(analyzer: Analyzer) -> None:
    clean, abusive = analyzer.score([CLEAN, ABUSIVE])
    assert abusive.toxicity > clean.toxicity + 0.3
    assert abusive.hate_label != "clean"
    assert clean.hate_label == "clean"
    assert 1 - abusive.hate_scores["clean"] >= analyzer.thresholds.hate_speech


def test_abuse_is_held_with_and_without_accents_and_obfuscated(analyzer: Analyzer) -> None:
    variants = [
        ABUSIVE,
        "Thang cho nay ngu nhu bo, dm cut me may di do oc cho",
        "Th4ng ch0 n4y ng.u nhu b0 đ.m",
    ]
    for result in analyzer.analyze(variants):
        assert result["decision"] in ("review", "reject"), result
        assert result["attributes"]["toxicity"]["flagged"], result


def test_plain_abuse_is_toxic_through_the_hate_override(analyzer: Analyzer) -> None:
    assert analyzer.models.toxicity_override <= 1.0
    (scored,) = analyzer.score([ABUSIVE])
    assert 1 - scored.hate_scores["clean"] >= analyzer.models.toxicity_override
    assert scored.toxicity >= 1 - scored.hate_scores["clean"]


def test_scam_with_zalo_number_is_spam_and_triggers_rules(analyzer: Analyzer) -> None:
    (scored,) = analyzer.score([SCAM])
    assert "phone" in scored.rules
    assert "chat_handle" in scored.rules
    (result,) = analyzer.analyze([SCAM])
    assert result["decision"] != "publish"
    assert {"phone", "chat_handle"} <= set(result["reasons"])


def test_spam_with_a_link_is_not_published(analyzer: Analyzer) -> None:
    texts = [
        "Kiếm tiền online 5 triệu mỗi ngày tại nhà, đăng ký ngay https://kiemtien-nhanh.vip/dk",
        "Kiem tien online 5 trieu moi ngay, vao www.kiemtiennhanh.com de dang ky",
    ]
    for result in analyzer.analyze(texts):
        assert result["decision"] != "publish", result
        assert "link" in result["reasons"]


def test_teencode_abuse_is_held(analyzer: Analyzer) -> None:
    for result in analyzer.analyze(["m ngu vl, cút mẹ m đi", "dm thg oc cho nay", "vcl đồ óc lợn"]):
        assert result["decision"] in ("review", "reject"), result


def test_normal_news_comment_is_published(analyzer: Analyzer) -> None:
    comments = [
        CLEAN,
        "Mong rằng thành phố sẽ sớm hoàn thành tuyến metro để giảm ùn tắc giao thông.",
        "Tôi nghĩ nên tăng lương cho giáo viên vùng sâu vùng xa, họ vất vả lắm.",
    ]
    for result in analyzer.analyze(comments):
        assert result["decision"] == "publish", result
        assert result["reasons"] == []
        assert result["spans"] == []


PAIRS = [
    (
        "Chính phủ cần minh bạch hơn trong việc chi tiêu ngân sách công.",
        "Chinh phu can minh bach hon trong viec chi tieu ngan sach cong.",
    ),
    (
        "Mong rằng thành phố sẽ sớm hoàn thành tuyến metro để giảm ùn tắc giao thông.",
        "Mong rang thanh pho se som hoan thanh tuyen metro de giam un tac giao thong.",
    ),
    ("Đồ ngu như chó, cút đi thằng mất dạy", "Do ngu nhu cho, cut di thang mat day"),
]


@pytest.mark.parametrize(("accented", "stripped"), PAIRS)
def test_same_comment_with_and_without_accents_scores_alike(
    analyzer: Analyzer, accented: str, stripped: str
) -> None:
    a, s = analyzer.score([accented, stripped])
    assert abs(a.toxicity - s.toxicity) < 0.15
    assert abs(a.constructive - s.constructive) < 0.2
    assert abs(a.hate_scores["clean"] - s.hate_scores["clean"]) < 0.2
    assert abs(a.spam - s.spam) < 0.1
    (ra, rs) = analyzer.analyze([accented, stripped])
    assert ra["decision"] == rs["decision"]


def test_spans_point_at_the_offending_words_in_the_original_text(analyzer: Analyzer) -> None:
    text = "Bài này hay. Nhưng thằng   NGUUUU kia thì đ.m nó"
    (result,) = analyzer.analyze([text])
    found = [text[s["start"] : s["end"]] for s in result["spans"]]
    assert all(s["text"] == text[s["start"] : s["end"]] for s in result["spans"])
    assert any("NGUUUU" in f for f in found), found
    assert any("đ.m" in f for f in found), found
    assert not any("Bài" in f or "hay" in f for f in found)


def _check_shape(result: dict, comment_id: object) -> None:
    assert set(result) == {"id", "model_version", "attributes", "spans", "rules", "decision", "reasons"}
    assert result["id"] == comment_id
    attrs = result["attributes"]
    assert set(attrs) == {"toxicity", "hate_speech", "spam", "constructive"}
    for name in ("toxicity", "spam", "constructive"):
        assert set(attrs[name]) == ({"score", "flagged", "kind"} if name == "spam" else {"score", "flagged"})
        assert 0.0 <= attrs[name]["score"] <= 1.0
        assert isinstance(attrs[name]["flagged"], bool)
    spam = attrs["spam"]
    # The kind is named exactly when the score is flagged.
    assert (spam["kind"] is not None) == spam["flagged"]
    assert spam["kind"] is None or spam["kind"] in SPAM_KINDS
    hate = attrs["hate_speech"]
    assert hate["label"] in HATE_LABELS
    assert set(hate["scores"]) == set(HATE_LABELS)
    assert abs(sum(hate["scores"].values()) - 1.0) < 1e-3
    assert hate["label"] == max(hate["scores"], key=hate["scores"].get)
    assert result["decision"] in ("publish", "review", "reject")
    assert set(result["rules"]) <= set(TEXT_RULES)
    for span in result["spans"]:
        assert set(span) == {"start", "end", "text"}
        assert 0 <= span["start"] < span["end"]
    json.dumps(result, ensure_ascii=False)


def test_every_output_matches_the_contract_shape(analyzer: Analyzer) -> None:
    texts = [CLEAN, ABUSIVE, SCAM, "", "   \n\t ", "😀😀😀", "x" * 5000, "Đ" * 5000, "a\ud800b\x00\u202e"]
    ids = [f"c{i}" for i in range(len(texts))]
    results = analyzer.analyze(texts, ids=ids)
    assert len(results) == len(texts)
    for result, comment_id, text in zip(results, ids, texts, strict=True):
        _check_shape(result, comment_id)
        assert result["model_version"] == analyzer.model_version
        for span in result["spans"]:
            assert span["end"] <= len(text)


def test_scored_text_fields(analyzer: Analyzer) -> None:
    (scored,) = analyzer.score(["Hoà ko thích ĐIỀU NÀY"])
    assert isinstance(scored, ScoredText)
    assert scored.canonical == "hòa ko thích điều này"
    assert scored.folded == "hoa ko thich dieu nay"
    assert abs(sum(scored.hate_scores.values()) - 1) < 1e-6


def test_empty_batch_and_long_text(analyzer: Analyzer) -> None:
    assert analyzer.analyze([]) == []
    long_text = ("Giá xăng tăng quá nhanh, người dân khổ lắm. " * 120)[:5000]
    (result,) = analyzer.analyze([long_text])
    _check_shape(result, None)


def test_policies_per_text_and_premoderation(analyzer: Analyzer) -> None:
    strict = Policy(premoderate=True)
    results = analyzer.analyze([CLEAN, CLEAN], policies=[Policy(), strict])
    assert results[0]["decision"] == "publish"
    assert results[1]["decision"] == "review" and results[1]["reasons"] == ["premoderation"]
    with pytest.raises(ValueError):
        analyzer.analyze([CLEAN], policies=[Policy(), Policy()])
    banned = Policy(banned_words=("phân tích",))
    assert analyzer.analyze([CLEAN], policies=banned)[0]["decision"] == "reject"


def test_batch_results_do_not_depend_on_the_batch(analyzer: Analyzer) -> None:
    alone = analyzer.analyze([ABUSIVE])[0]
    together = analyzer.analyze([CLEAN, SCAM, ABUSIVE, "x" * 3000])[2]
    assert alone["attributes"] == together["attributes"]
    assert alone["spans"] == together["spans"]


def test_fast_span_scores_equal_the_feature_definition(analyzer: Analyzer) -> None:
    tagger = analyzer.models.spans
    for text in [ABUSIVE, CLEAN, "ko biết đm vl thật sự", "óc chó 😡 ngu"]:
        (scored,) = analyzer.score([text])
        doc = (1 - scored.hate_scores["clean"], scored.hate_scores["hate"])
        spans, fast = tagger.token_scores(scored.canonical, scored.folded, doc)
        _, keys = tagger.features(scored.canonical, scored.folded, doc)
        slow = [sum(tagger.weights[fam].get(key, 0.0) for fam, key in token) for token in keys]
        assert fast == pytest.approx(slow, abs=1e-6)
        assert len(keys) == len(spans)
        assert any(fam == "docb" for fam, _ in keys[0])
    assert token_keys(["a"], ["a"], {}, [""])[0][0] == ("u", "a")


def test_spans_come_only_from_comments_the_hate_model_finds_offensive(analyzer: Analyzer) -> None:
    gate = analyzer.models.spans.gate
    assert 0 < gate < 1
    for scored in analyzer.score([CLEAN, ABUSIVE, "Giá xăng tăng, con nó đi học khổ quá"]):
        if scored.spans:
            assert 1 - scored.hate_scores["clean"] >= gate


@pytest.mark.parametrize(
    "text",
    [
        "Bài này hay. Nhưng thằng   NGUUUU kia thì đ.m nó",
        "ĐỒ NGU\u200b  NHƯ   CHÓ",
        unicodedata.normalize("NFD", "Thằng ngu này, hoà cả làng"),
        "Ｔhằng ｎgu",
        "hoà bình   ok\t\tngu",
    ],
)
def test_offset_fast_path_agrees_with_the_full_map(text: str) -> None:
    canonical = tracked(text).text
    fast, full = _offsets(text, canonical), tracked(text)
    assert fast.text == full.text == canonical
    for start in range(len(canonical)):
        for end in range(start + 1, len(canonical) + 1):
            assert fast.to_original(start, end) == full.to_original(start, end)


def test_module_level_analyze_uses_one_shared_analyzer() -> None:
    assert get_analyzer() is get_analyzer()
    (result,) = analyze([CLEAN], ids=["x1"])
    assert result["id"] == "x1" and result["decision"] == "publish"


def test_verify_artifact_returns_the_manifest() -> None:
    manifest = verify_artifact()
    assert manifest["version"] == (DEFAULT_MODEL_DIR / "CURRENT").read_text().strip()
    assert {f["name"] for f in manifest["files"]} >= {"model.npz", "model.json.gz"}
    for key in ("created_at", "libraries", "training_data", "dev_metrics", "thresholds"):
        assert key in manifest
    assert sum(f["size"] for f in manifest["files"]) < 20_000_000
    assert manifest["requires"] == {}  # plain arrays and JSON: no pickled library objects


@pytest.fixture()
def artifact_copy(tmp_path: Path) -> Path:
    version_dir = resolve_version_dir()
    root = tmp_path / "models"
    shutil.copytree(version_dir, root / version_dir.name)
    (root / "CURRENT").write_text(version_dir.name + "\n")
    return root


def test_copy_verifies_and_loads(artifact_copy: Path) -> None:
    assert verify_artifact(artifact_copy)["version"]
    assert load_analyzer(artifact_copy).score(["ok"])[0].hate_label in HATE_LABELS


def test_truncated_file_is_refused(artifact_copy: Path) -> None:
    path = next(artifact_copy.glob("*/model.npz"))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelArtifactError, match="model.npz"):
        verify_artifact(artifact_copy)
    with pytest.raises(ModelArtifactError, match="model.npz"):
        load_analyzer(artifact_copy)


def test_modified_file_is_refused(artifact_copy: Path) -> None:
    path = next(artifact_copy.glob("*/model.json.gz"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))
    with pytest.raises(ModelArtifactError, match=r"model\.json\.gz.*sha256"):
        load_analyzer(artifact_copy)


def test_missing_file_or_manifest_is_refused(artifact_copy: Path) -> None:
    next(artifact_copy.glob("*/model.json.gz")).unlink()
    with pytest.raises(ModelArtifactError, match="missing"):
        load_analyzer(artifact_copy)
    next(artifact_copy.glob("*/manifest.json")).unlink()
    with pytest.raises(ModelArtifactError, match="manifest"):
        verify_artifact(artifact_copy)


def test_missing_or_wrong_current_is_refused(artifact_copy: Path) -> None:
    (artifact_copy / "CURRENT").write_text("0000.0.0\n")
    with pytest.raises(ModelArtifactError, match="0000.0.0"):
        load_analyzer(artifact_copy)
    (artifact_copy / "CURRENT").unlink()
    with pytest.raises(ModelArtifactError, match="CURRENT"):
        verify_artifact(artifact_copy)


def test_unsupported_format_is_refused(artifact_copy: Path) -> None:
    manifest_path = next(artifact_copy.glob("*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    manifest["format"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ModelArtifactError, match="format"):
        load_analyzer(artifact_copy)


def test_a_library_version_mismatch_is_refused_clearly(artifact_copy: Path) -> None:
    manifest_path = next(artifact_copy.glob("*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    manifest["requires"] = {"scikit-learn": "0.0.1"}
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(
        ModelArtifactError, match=r"scikit-learn 0\.0\.1.*is installed.*scikit-learn==0\.0\.1"
    ):
        load_analyzer(artifact_copy)


def test_all_model_artifacts_stay_small() -> None:
    total = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file())
    assert total < 50_000_000


def test_model_card_is_part_of_the_checked_artifact(artifact_copy: Path) -> None:
    card = next(artifact_copy.glob("*/MODEL_CARD.md"))
    assert "research-use terms" in card.read_text()
    card.write_text(card.read_text() + "edited\n")
    with pytest.raises(ModelArtifactError, match="MODEL_CARD.md"):
        verify_artifact(artifact_copy)


@pytest.mark.parametrize(
    "text, url",
    [
        ("Đ.m bọn ngu, xem https://example.com/ngu/bo", "https://example.com/ngu/bo"),
        ("đồ ngu http://abc.vn/do/ngu", "http://abc.vn/do/ngu"),
        ("thằng ngu này đọc vnexpress.net/thang-ngu-123 đi", "vnexpress.net/thang-ngu-123"),
    ],
)
def test_no_span_inside_a_link(analyzer, text: str, url: str) -> None:
    """Issue 16: a "/" or a word of an address was highlighted as offensive."""
    scored = analyzer.score([text])[0]
    start = text.index(url)
    assert scored.spans, "the insult outside the link is still marked"
    assert all(end <= start or begin >= start + len(url) for begin, end in scored.spans), scored.spans


@pytest.mark.parametrize(
    "text, phrase",
    [("thang nay do hoi", "do hoi"), ("thằng này dở hơi quá đi", "dở hơi"), ("thằng này óc chó", "óc chó")],
)
def test_an_insult_of_two_words_is_marked_whole(analyzer, text: str, phrase: str) -> None:
    """Issue 16: in "dở hơi" only "hơi" was marked."""
    marked = [text[a:b] for a, b in analyzer.score([text])[0].spans]
    assert any(phrase in m for m in marked), marked


@pytest.mark.parametrize(
    "text", ["chem gio vua thoi", "nói phét, chém gió cả ngày", "Ông ấy chém gió giỏi lắm"]
)
def test_common_phrases_that_collide_with_insults_without_accents_are_not_marked(analyzer, text: str) -> None:
    """Issue 16: "chem gio" (chém gió, to boast) was marked as offensive."""
    assert analyzer.score([text])[0].spans == []


@pytest.mark.parametrize(
    "text",
    [
        "Thương bà con vùng lũ quá",
        "Mong sớm khắc phục hậu quả bão lũ",
        "Lũ quét cuốn trôi cả bản làng, mong mọi người bình an",
        "Nước lũ dâng nhanh quá, cứu hộ ơi",
        "bao lu nam nay kinh khung qua",
    ],
)
def test_floods_in_the_news_are_not_hate_speech(analyzer, text: str) -> None:
    """A regional paper's flood season: "lũ" there is the flood, not the contemptuous "cả lũ"."""
    scored = analyzer.score([text])[0]
    assert scored.hate_label == "clean", (scored.hate_label, scored.hate_scores)
    assert scored.spans == [], [text[a:b] for a, b in scored.spans]


def test_an_unaccented_flood_comment_is_clean_though_its_lon_may_be_marked(analyzer) -> None:
    """ "mua lu nam nay lon qua" (mưa lũ năm nay lớn quá): the comment is clean and published; its
    "lon" typed without accents is also the obscene "lồn", which the span tagger may still mark
    (known weakness in the model card), so only the decision is asserted."""
    result = analyzer.analyze(["mua lu nam nay lon qua"])[0]
    assert result["attributes"]["hate_speech"]["label"] == "clean" and result["decision"] == "publish"


def test_the_contemptuous_lu_is_still_an_insult(analyzer) -> None:
    scored = analyzer.score(["cả lũ chó má bọn mày cút đi"])[0]
    assert scored.hate_label != "clean" and scored.spans
