"""The models page in Chromium: an admin promotes a refused candidate only after ticking the box,
runs another in shadow, reads its disagreements (readers' text shown as text) and rolls back."""

from __future__ import annotations

import dataclasses

import pytest
from playwright.sync_api import expect

from moderation.scoring.artifact import resolve_version_dir
from moderation.storage.models import Site
from tests.e2e.helpers import sign_in
from tests.e2e.seed import add_comment
from tests.models_helpers import BAD, SPARE, add_shadow, add_versions, candidate_store
from tests.xss_payloads import PAYLOADS


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return candidate_store(tmp_path_factory)


@pytest.fixture
def settings(settings, store):
    return dataclasses.replace(settings, model_store=store)


def site_row(db, site) -> Site:
    with db.session() as session:
        return session.get(Site, site.id)


def test_promote_anyway_shadow_and_roll_back(page, db, site, chief):
    add_versions(db, site.id)
    sign_in(page, "chief")
    page.get_by_role("link", name="Chính sách").click()
    page.get_by_role("link", name="Mô hình và học").click()
    expect(page.locator(".model-live")).to_have_text(f"mặc định đã cài {resolve_version_dir().name}")
    refused = page.locator("article.candidate", has_text=BAD)
    expect(refused.locator("tr.regression")).to_have_count(1)

    refused.get_by_role("button", name="Vẫn đưa vào sử dụng").click()
    assert page.evaluate(
        "document.querySelector('article.status-refused [name=confirm]').validity.valueMissing"
    )
    assert site_row(db, site).model_version is None, "the browser does not send the form unticked"
    refused.get_by_label("Tôi đã đọc báo cáo và vẫn muốn dùng phiên bản này").check()
    refused.get_by_role("button", name="Vẫn đưa vào sử dụng").click()
    expect(page.locator(".message.success")).to_contain_text(f"{BAD} giờ quyết định bình luận của trang này.")
    expect(page.locator(".model-live")).to_have_text(BAD)
    assert site_row(db, site).model_version == BAD

    page.locator("article.candidate", has_text=SPARE).get_by_role(
        "button", name="Bật chạy thử song song"
    ).click()
    expect(page.locator(".model-shadow")).to_have_text(SPARE)
    for payload in PAYLOADS[:20]:
        add_shadow(db, site.id, add_comment(db, site, payload), SPARE, decision="publish", live="review")
    page.reload()
    expect(page.locator("table.disagreements tbody tr")).to_have_count(20)
    assert "<script>window.__xss=1</script>" in page.locator("table.disagreements").inner_text()
    assert page.evaluate("window.__xss") is None, "a payload ran"
    assert page.locator("main script, main iframe, main img, main svg").count() == 0

    page.get_by_role("button", name="Tắt chạy thử song song").click()
    expect(page.locator(".model-shadow")).to_have_text("–")
    page.get_by_role("button", name="Quay lại mô hình mặc định đã cài").click()
    expect(page.locator(".message.success")).to_contain_text("mô hình mặc định đã cài quyết định trở lại")
    row = site_row(db, site)
    assert row.model_version is None and row.shadow_version is None
