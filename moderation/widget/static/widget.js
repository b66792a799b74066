/* Comment widget v1 for news sites: the published comments of an article, replies, reports and
 * the "Viết bình luận" form, in Vietnamese. No framework and no innerHTML: every text a reader
 * wrote goes into the page through textContent / Text nodes only. No cookies: the site's public
 * widget key travels in the query string and the page's Origin must be registered for it.
 *
 * <div id="binh-luan"></div>
 * <script src="https://SERVICE/widget/v1/widget.js" data-key="mwk_..." data-article-id="..."
 *         data-target="binh-luan" async></script>
 * Optional: data-article-title, data-article-url, data-api (the service's origin, default: the script's).
 * The page's localStorage keeps the reader's name and email and the ids of their own comments
 * (with what they wrote, shown again through textContent after a reload while they wait).
 */
(() => {
  "use strict";
  const CSS_VERSION = "__WIDGET_CSS_VERSION__";
  const PER_PAGE = 20;
  // Seconds between status checks of the reader's own comment; it stops after about five minutes.
  const FOLLOW = [1, 2, 3, 5, 8, 13, 20, 30, 30, 30, 30, 30, 30, 30, 30];
  // A fast typist's post waits out the site's minimum by itself up to this long; longer, they are told.
  const AUTO_WAIT_MS = 2000;
  const MAX_MINE = 20;
  const ZONE = "Asia/Ho_Chi_Minh";
  const fmt = (n) => Number(n).toLocaleString("vi-VN");
  const T = {
    title: "Bình luận",
    empty: "Hiện tại chưa có bình luận",
    write: "Viết bình luận",
    name: "Họ và tên",
    email: "Email (không bắt buộc, không hiển thị)",
    content: "Nội dung bình luận",
    send: "Gửi bình luận",
    sending: "Đang gửi…",
    reply: "Trả lời",
    replyTo: (n) => "Trả lời " + n,
    sendReply: "Gửi trả lời",
    cancel: "Hủy",
    more: "Xem thêm bình luận",
    loading: "Đang tải bình luận…",
    left: (n) => "Còn " + fmt(n) + " ký tự",
    over: (n) => "Vượt quá " + fmt(n) + " ký tự",
    pending: "Bình luận của bạn đang chờ duyệt",
    published: "Bình luận của bạn đã được đăng",
    held: "Bình luận của bạn sẽ hiển thị sau khi được duyệt",
    report: "Báo cáo vi phạm",
    reportWhy: "Lý do báo cáo",
    reportSend: "Gửi báo cáo",
    reported: "Đã gửi báo cáo",
    reasons: ["Xúc phạm, thô tục", "Thù ghét, kỳ thị", "Quảng cáo, spam", "Thông tin sai sự thật", "Lý do khác"],
    tooFast: (n) => "Bạn gửi quá nhanh, vui lòng thử lại sau " + fmt(n) + " giây",
    refused: (n) => (n > 120 ? "Bạn đã gửi nhiều bình luận, vui lòng thử lại sau " + fmt(Math.ceil(n / 60)) + " phút" : T.tooFast(n)),
    loadFail: "Không tải được phần bình luận. Vui lòng tải lại trang sau.",
    sendFail: "Chưa gửi được. Vui lòng thử lại.",
    forbidden: "Trang này chưa được đăng ký để dùng phần bình luận.",
    needName: "Vui lòng nhập họ và tên",
    needContent: "Vui lòng nhập nội dung bình luận",
    badEmail: "Địa chỉ email không hợp lệ",
    reserved: "Tên này dành cho ban biên tập, vui lòng dùng tên khác",
    tooLong: (n) => "Tối đa " + fmt(n) + " ký tự",
    invalid: "Thông tin chưa hợp lệ",
    check: "Vui lòng kiểm tra lại các ô được đánh dấu.",
    gone: "Bình luận này không còn hiển thị.",
    hp: "Để trống ô này",
  };

  const script =
    document.currentScript || document.querySelector('script[data-key][src*="/widget/v1/widget.js"]');
  if (!script || script.dataset.mwLoaded) return;
  script.dataset.mwLoaded = "1";
  const cfg = script.dataset;
  const src = new URL(script.src, location.href);
  const base = (cfg.api || src.origin).replace(/\/+$/, "");
  const key = cfg.key || "";
  const articleId = cfg.articleId || "";
  const canonical = document.querySelector('link[rel="canonical"]');
  const articleUrl = cfg.articleUrl || (canonical && canonical.href) || location.href.split("#")[0];
  const ogTitle = document.querySelector('meta[property="og:title"]');
  const articleTitle = cfg.articleTitle || (ogTitle && ogTitle.content) || document.title;
  let uid = 0;
  const id = (name) => "mw" + ++uid + "-" + name;
  const chars = (s) => Array.from(s.normalize("NFC")).length;
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

  /** localStorage under this site's key; storage may be off or full: then nothing is remembered. */
  const store = (name, value) => {
    const k = "mw:" + key + ":" + name;
    try {
      if (value === undefined) return JSON.parse(localStorage.getItem(k));
      localStorage.setItem(k, JSON.stringify(value));
    } catch (error) {
      return null;
    }
  };
  const str = (v, n) => (typeof v === "string" ? v.slice(0, n) : "");
  const mineKey = "mine:" + articleId;
  /** The reader's own comments under this article: {id, parent_id, name, content, created_at}. */
  const mine = () => {
    const kept = store(mineKey);
    return Array.isArray(kept) ? kept.filter((c) => c && /^[\w-]{1,64}$/.test(c.id) && typeof c.content === "string") : [];
  };
  const forget = (commentId) => store(mineKey, mine().filter((c) => c.id !== commentId));

  /** createElement with attributes; children are nodes or strings (appended as Text nodes). */
  const el = (tag, attrs, ...kids) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value == null || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const kid of kids) if (kid != null) node.append(kid);
    return node;
  };

  const api = async (method, path, params, body) => {
    const url = new URL(base + "/api/v1" + path);
    url.searchParams.set("key", key);
    for (const [name, value] of Object.entries(params || {})) url.searchParams.set(name, value);
    const init = { method, mode: "cors", credentials: "omit", headers: { Accept: "application/json" } };
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    const abort = window.AbortController ? new AbortController() : null;
    const timer = abort && setTimeout(() => abort.abort(), 20000);
    if (abort) init.signal = abort.signal;
    try {
      response = await fetch(url, init);
    } catch (error) {
      return { status: 0, data: null, retry: 0 }; // offline, timed out, or refused by CORS
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    return { status: response.status, data, retry: parseInt(response.headers.get("Retry-After"), 10) || 0 };
  };

  /** Times in the site's time zone (its config says which), dd/mm/yyyy HH:mm, whatever the browser's. */
  let clock = null;
  const setZone = (zone) => {
    try {
      const o = { timeZone: zone, day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
      clock = new Intl.DateTimeFormat("en-GB", o);
      return true;
    } catch (error) {
      return false; // an unknown zone: keep the one we have
    }
  };
  setZone(ZONE);
  const when = (iso) => {
    const d = new Date(iso);
    if (isNaN(d)) return "";
    const p = {};
    for (const part of clock.formatToParts(d)) p[part.type] = part.value;
    return p.day + "/" + p.month + "/" + p.year + " " + p.hour + ":" + p.minute;
  };

  if (!document.querySelector("link[data-mw-css]")) {
    const href = new URL("widget.css?v=" + CSS_VERSION, src).href;
    document.head.append(el("link", { rel: "stylesheet", href, "data-mw-css": true }));
  }

  // The skeleton.
  const titleId = id("title");
  const live = el("div", { class: "mw-sr", role: "status", "aria-live": "polite" });
  const note = el("p", { class: "mw-note", role: "alert", hidden: true });
  const empty = el("p", { class: "mw-empty", text: T.loading });
  const list = el("ol", { class: "mw-list", "aria-labelledby": titleId });
  const more = el("button", { type: "button", class: "mw-btn mw-more", text: T.more, hidden: true });
  const writeId = id("write");
  const root = el(
    "section",
    { class: "mw", lang: "vi", "aria-labelledby": titleId },
    el("h2", { class: "mw-title", id: titleId, text: T.title }),
    live,
    note,
    empty,
    list,
    more,
    el("h3", { class: "mw-write", id: writeId, text: T.write }),
  );
  const target = (cfg.target && document.getElementById(cfg.target)) || null;
  if (target) target.replaceChildren(root);
  else script.after(root);

  const say = (text) => {
    live.textContent = "";
    setTimeout(() => (live.textContent = text), 50);
  };
  const shown = new Set();
  const saved = store("reader") || {};
  const reader = { name: str(saved.name, 200), email: str(saved.email, 254) };
  let settings = null;
  let tokenAt = 0;
  let page = 0;
  let total = 0;

  const closePanel = (item, focus) => {
    const open = item.querySelector(":scope > .mw-body > .mw-panel > *");
    if (open) open.remove();
    for (const button of item.querySelectorAll(":scope > .mw-body > .mw-actions > [aria-expanded]")) {
      if (button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        if (focus) button.focus();
      }
    }
  };

  /** The reply form or the report choice, under the comment; one at a time. */
  const togglePanel = (item, button, build) => {
    const wasOpen = button.getAttribute("aria-expanded") === "true";
    closePanel(item, false);
    if (wasOpen) return;
    const panel = item.querySelector(":scope > .mw-body > .mw-panel");
    const content = build();
    content.id = button.getAttribute("aria-controls");
    content.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closePanel(item, true);
    });
    panel.append(content);
    button.setAttribute("aria-expanded", "true");
    // The first field still to fill (the text, once the reader's name is known), else the first one.
    const fields = Array.from(content.querySelectorAll("input:not([tabindex='-1']), textarea"));
    const first = fields.find((f) => f.type !== "email" && f.type !== "radio" && !f.value) || fields[0];
    if (first) first.focus();
  };

  const reportForm = (comment, item, button) => {
    const group = id("reason");
    const choices = T.reasons.map((reason, index) =>
      el("label", { class: "mw-choice" }, el("input", { type: "radio", name: group, value: reason, checked: index === 0 }), " " + reason),
    );
    const error = el("p", { class: "mw-error", role: "alert", hidden: true });
    const send = el("button", { type: "submit", class: "mw-btn", text: T.reportSend });
    const form = el(
      "form",
      { class: "mw-report" },
      el("fieldset", {}, el("legend", { text: T.reportWhy }), ...choices),
      el("div", { class: "mw-row" }, send, el("button", { type: "button", class: "mw-link", text: T.cancel, onclick: () => closePanel(item, true) })),
      error,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const picked = form.querySelector("input:checked");
      send.disabled = true;
      const r = await api("POST", "/comments/" + encodeURIComponent(comment.id) + "/reports", null, { reason: picked ? picked.value : null });
      send.disabled = false;
      if (r.status === 202) {
        // Said once: the button gives way to the confirmation, which takes the focus (and is read).
        closePanel(item, false);
        const done = el("p", { class: "mw-done", tabindex: "-1", text: T.reported });
        item.querySelector(":scope > .mw-body > .mw-panel").append(done);
        button.remove();
        done.focus();
        return;
      }
      error.textContent = r.status === 429 ? T.refused(r.retry || 60) : r.status === 404 ? T.gone : T.sendFail;
      error.hidden = false;
    });
    return form;
  };

  const addActions = (comment, item) => {
    const actions = item.querySelector(":scope > .mw-body > .mw-actions");
    const replyId = id("reply");
    const reply = el("button", { type: "button", class: "mw-link", "aria-expanded": "false", "aria-controls": replyId, text: T.reply });
    reply.addEventListener("click", () =>
      togglePanel(item, reply, () => commentForm(comment, item, () => closePanel(item, true))),
    );
    const reportId = id("report");
    const report = el("button", { type: "button", class: "mw-link mw-report-btn", "aria-expanded": "false", "aria-controls": reportId, text: T.report });
    report.addEventListener("click", () => togglePanel(item, report, () => reportForm(comment, item, report)));
    actions.replaceChildren(reply, report);
  };

  const renderComment = (comment, own) => {
    shown.add(comment.id);
    const by = id("by");
    const item = el(
      "li",
      { class: "mw-comment", "data-id": comment.id },
      el(
        "article",
        { class: "mw-body", "aria-labelledby": by, tabindex: "-1" },
        el("p", { class: "mw-meta" }, el("strong", { class: "mw-author", id: by, text: comment.author.name }), " ", el("time", { datetime: comment.created_at, text: when(comment.created_at) })),
        el("p", { class: "mw-content", text: comment.content }),
        el("div", { class: "mw-actions" }),
        el("div", { class: "mw-panel" }),
      ),
      el("ol", { class: "mw-replies" }),
    );
    if (own) {
      item.classList.add("mw-mine", "mw-pending");
      item.querySelector(".mw-body").append(el("p", { class: "mw-badge", text: T.pending }));
    } else addActions(comment, item);
    const replies = item.querySelector(".mw-replies");
    for (const child of comment.replies || []) if (!shown.has(child.id)) replies.append(renderComment(child, false));
    return item;
  };

  /** Follow the reader's own comment until it is published or held, backing off, then stop. */
  const markHeld = (item) => {
    item.classList.remove("mw-pending");
    item.classList.add("mw-held");
    item.querySelector(".mw-badge").textContent = T.held;
  };

  const follow = (comment, item) => {
    let step = 0;
    const badge = item.querySelector(".mw-badge");
    const tick = async () => {
      const r = await api("GET", "/comments/" + encodeURIComponent(comment.id) + "/status");
      const status = r.status === 200 && r.data ? r.data.status : null;
      if (status === "published") {
        item.classList.remove("mw-pending");
        badge.remove();
        addActions(comment, item);
        forget(comment.id);
        say(T.published);
      } else if (status === "review" || status === "rejected") {
        markHeld(item);
        say(T.held);
      } else if (++step < FOLLOW.length) setTimeout(tick, FOLLOW[step] * 1000);
    };
    setTimeout(tick, FOLLOW[0] * 1000);
  };

  const field = (label, control, hintText) => {
    const error = el("p", { class: "mw-error", id: id("err"), hidden: true });
    const hint = hintText ? el("p", { class: "mw-hint", id: id("hint"), text: hintText }) : null;
    control.id = id("f");
    if (hint) control.setAttribute("aria-describedby", hint.id);
    const wrap = el("div", { class: "mw-field" }, el("label", { for: control.id, text: label }), control, hint, error);
    const set = (message) => {
      error.textContent = message || "";
      error.hidden = !message;
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
      const described = [hint && hint.id, message && error.id].filter(Boolean).join(" ");
      if (described) control.setAttribute("aria-describedby", described);
      else control.removeAttribute("aria-describedby");
    };
    return { wrap, control, set, hint };
  };

  /** The form: under the list (parent null) or under a comment, as a reply. */
  const commentForm = (parent, parentItem, done) => {
    const maxName = settings ? settings.max_name_chars : 80;
    const maxContent = settings ? settings.max_content_chars : 5000;
    const name = field(T.name, el("input", { type: "text", name: "name", autocomplete: "name", maxlength: maxName, required: true }));
    const email = field(T.email, el("input", { type: "email", name: "email", autocomplete: "email", maxlength: 254 }));
    const content = field(T.content, el("textarea", { name: "content", rows: parent ? 3 : 5, required: true }), T.left(maxContent));
    name.control.value = reader.name;
    email.control.value = reader.email;
    content.hint.classList.add("mw-count");
    let over = false;
    const count = () => {
      const left = maxContent - chars(content.control.value);
      content.hint.textContent = left >= 0 ? T.left(left) : T.over(-left);
      content.hint.classList.toggle("mw-over", left < 0);
      if (left < 0 && !over) say(T.over(-left));
      over = left < 0;
    };
    content.control.addEventListener("input", count);
    // The honeypot: people never see or reach it; bots that fill every field give themselves away.
    const trap = el("input", { type: "text", name: "website", tabindex: "-1", autocomplete: "off", id: id("hp") });
    const honeypot = el("div", { class: "mw-hp", "aria-hidden": "true" }, el("label", { for: trap.id, text: T.hp }), trap);
    const formError = el("p", { class: "mw-error mw-form-error", role: "alert", hidden: true });
    const send = el("button", { type: "submit", class: "mw-btn mw-send", text: parent ? T.sendReply : T.send });
    const row = el("div", { class: "mw-row" }, send);
    if (parent) row.append(el("button", { type: "button", class: "mw-link", text: T.cancel, onclick: () => done() }));
    const fields = { "author.name": name, "author.email": email, content };
    const form = el(
      "form",
      { class: "mw-form", novalidate: true, "aria-label": parent ? T.replyTo(parent.author.name) : null, "aria-labelledby": parent ? null : writeId },
      name.wrap,
      email.wrap,
      content.wrap,
      honeypot,
      formError,
      row,
    );
    if (!settings) for (const control of form.elements) control.disabled = true;
    let busy = false;
    const fail = (message) => {
      formError.textContent = message;
      formError.hidden = false;
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy || !settings) return;
      formError.hidden = true;
      const values = { name: name.control.value.trim(), email: email.control.value.trim(), content: content.control.value };
      const problems = {};
      if (!values.name) problems["author.name"] = T.needName;
      if (values.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email)) problems["author.email"] = T.badEmail;
      const length = chars(values.content);
      if (!values.content.trim()) problems.content = T.needContent;
      else if (length > maxContent) problems.content = T.tooLong(maxContent);
      if (!show(problems)) return;
      // Never sooner than the site's minimum after the form opened: such posts are taken for bots.
      const wait = settings.min_seconds * 1000 + 300 - (performance.now() - tokenAt);
      if (wait > AUTO_WAIT_MS) return fail(T.tooFast(Math.ceil(wait / 1000)));
      busy = true;
      send.disabled = true;
      send.textContent = T.sending;
      if (wait > 0) await sleep(wait);
      const body = {
        article_id: articleId,
        article_title: articleTitle ? articleTitle.slice(0, 500) : undefined,
        article_url: /^https?:/.test(articleUrl) ? articleUrl.slice(0, 2000) : undefined,
        parent_id: parent ? parent.id : undefined,
        author: values.email ? { name: values.name, email: values.email } : { name: values.name },
        content: values.content,
        form_token: settings.form_token,
        website: trap.value,
      };
      const r = await api("POST", "/comments", null, body);
      busy = false;
      send.disabled = false;
      send.textContent = parent ? T.sendReply : T.send;
      if (r.status === 202 && r.data && r.data.id) {
        reader.name = values.name;
        reader.email = values.email;
        store("reader", reader);
        content.control.value = "";
        count();
        const own = { id: r.data.id, author: { name: values.name }, content: values.content, created_at: new Date().toISOString(), replies: [] };
        const entry = { id: own.id, parent_id: parent ? parent.id : null, name: values.name, content: values.content, created_at: own.created_at };
        store(mineKey, [...mine(), entry].slice(-MAX_MINE));
        const item = renderComment(own, true);
        place(item, parent && parentItem);
        if (parent) done();
        item.querySelector(".mw-body").focus();
        say(T.pending);
        follow(own, item);
        return;
      }
      if (r.status === 422 && r.data && r.data.error) {
        const known = {};
        let other = false;
        for (const [name, message] of Object.entries(r.data.error.fields || {})) {
          if (fields[name]) known[name] = serverMessage(name, message);
          else other = name === "parent_id" ? T.gone : T.invalid;
        }
        if (Object.keys(known).length) show(known);
        if (other) fail(other);
        else if (!Object.keys(known).length) fail(T.invalid);
      } else if (r.status === 429) fail(T.refused(r.retry || 60));
      else if (r.status === 403 || r.status === 401) fail(T.forbidden);
      else fail(T.sendFail);
    });

    const serverMessage = (name, message) => {
      const most = /at most (\d+)/.exec(message || "");
      if (most) return T.tooLong(+most[1]);
      if (name === "author.email") return T.badEmail;
      if (/reserved/.test(message || "")) return T.reserved;
      if (/required|empty/.test(message || "")) return name === "content" ? T.needContent : T.needName;
      return T.invalid;
    };

    /** Show field errors next to their fields; true when there are none. */
    const show = (problems) => {
      let first = null;
      for (const [name, entry] of Object.entries(fields)) {
        entry.set(problems[name]);
        if (problems[name] && !first) first = entry.control;
      }
      if (first) {
        fail(T.check);
        first.focus();
      }
      return !first;
    };
    return form;
  };

  const loadPage = async () => {
    more.disabled = true;
    const r = await api("GET", "/articles/" + encodeURIComponent(articleId) + "/comments", { page: page + 1, per_page: PER_PAGE });
    more.disabled = false;
    if (r.status !== 200 || !r.data) {
      empty.hidden = true;
      note.textContent = r.status === 403 || r.status === 401 ? T.forbidden : T.loadFail;
      note.hidden = false;
      return null;
    }
    page += 1;
    total = r.data.total;
    const added = [];
    for (const thread of r.data.items || []) {
      if (shown.has(thread.id)) continue;
      const item = renderComment(thread, false);
      list.append(item);
      added.push(item);
    }
    empty.textContent = T.empty;
    empty.hidden = list.children.length > 0;
    more.hidden = page * PER_PAGE >= total;
    return added;
  };

  /** A comment of the reader's own goes under its parent's replies, else at the end of the list. */
  const place = (item, parentItem) => {
    if (parentItem) parentItem.querySelector(":scope > .mw-replies").append(item);
    else {
      list.append(item);
      empty.hidden = true;
    }
  };

  /** After a reload: the reader's own comments still waiting are shown again, marked; the rest forgotten. */
  const restoreMine = async () => {
    const kept = mine().filter((c) => !shown.has(c.id));
    const checks = await Promise.all(kept.map((c) => api("GET", "/comments/" + encodeURIComponent(c.id) + "/status")));
    kept.forEach((c, i) => {
      const status = checks[i].status === 200 && checks[i].data ? checks[i].data.status : null;
      if (status !== "pending" && status !== "review") {
        // Published (in the thread, or on a later page), rejected or gone; offline, refused: ask next time.
        if (checks[i].status === 200 || checks[i].status === 404) forget(c.id);
        return;
      }
      const own = { id: c.id, author: { name: str(c.name, 200) }, content: c.content, created_at: str(c.created_at, 40), replies: [] };
      const item = renderComment(own, true);
      const parentItem = typeof c.parent_id === "string" ? list.querySelector('.mw-comment[data-id="' + CSS.escape(c.parent_id) + '"]') : null;
      place(item, parentItem);
      if (status === "review") markHeld(item);
      else follow(own, item);
    });
  };

  more.addEventListener("click", async () => {
    const added = await loadPage();
    if (added && added.length) added[0].querySelector(".mw-body").focus();
  });

  const start = async () => {
    const form = commentForm(null, null, null);
    root.append(form);
    const [config] = await Promise.all([api("GET", "/widget/config"), loadPage().then(restoreMine)]);
    if (config.status !== 200 || !config.data) {
      note.textContent = config.status === 429 ? T.refused(config.retry || 60) : config.status === 403 ? T.forbidden : T.loadFail;
      note.hidden = false;
      return;
    }
    settings = config.data;
    tokenAt = performance.now();
    if (settings.timezone && settings.timezone !== ZONE && setZone(settings.timezone)) {
      for (const time of root.querySelectorAll("time[datetime]")) time.textContent = when(time.getAttribute("datetime"));
    }
    form.replaceWith(commentForm(null, null, null));
  };
  if (key && articleId) start();
  else console.error("moderation widget: the script tag needs data-key and data-article-id");
})();
