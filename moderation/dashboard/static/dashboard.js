/* The dashboard's behaviour: keyboard review, CSRF header for htmx, focus kept across swaps.
 * Served from our own origin so the CSP can forbid inline scripts; no eval, no inline styles. */
(function () {
  "use strict";

  var current = 0;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-region .card"));
  }

  function select(index, focus) {
    var list = cards();
    if (!list.length) { current = 0; return null; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (card, i) { card.classList.toggle("is-current", i === current); });
    var card = list[current];
    if (focus !== false) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest" });
    }
    return card;
  }

  function currentCard() {
    var list = cards();
    return list.length ? list[Math.min(current, list.length - 1)] : null;
  }

  function showError(text) {
    var box = document.getElementById("global-messages");
    if (!box) { return; }
    var p = document.createElement("p");
    p.className = "message error";
    p.textContent = text;
    box.replaceChildren(p);
  }

  function updateSelectedCount() {
    var out = document.querySelector("[data-selected-count]");
    if (!out) { return; }
    var n = document.querySelectorAll('#queue-region input.select:checked').length;
    out.textContent = n ? out.getAttribute("data-template").replace("{n}", String(n)) : "";
  }

  function toggleHelp() {
    var dialog = document.getElementById("help");
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }

  function openReject(card) {
    var panel = card.querySelector("details.reject-panel");
    if (!panel) { return; }
    panel.open = true;
    var first = panel.querySelector('input[type="radio"]');
    if (first) { first.focus(); }
  }

  /* Shortcuts stay off while typing; a focused checkbox or button does not count as typing. */
  function isTyping(target) {
    if (!target || !target.tagName) { return false; }
    if (target.tagName === "INPUT") { return !/^(checkbox|radio|button|submit|reset)$/.test(target.type); }
    return target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable;
  }

  /* The region is replaced on every action, so a live region inside it is not reliably read out:
   * copy its messages into the page's permanent announcer. */
  function announce() {
    var out = document.getElementById("announcer");
    var messages = document.querySelectorAll("#queue-region .messages .message");
    if (!out) { return; }
    out.textContent = Array.prototype.map.call(messages, function (m) { return m.textContent.trim(); }).join(" ");
  }

  /* Inside an open reject panel: 1-6 picks a listed reason and submits, 7 goes to the text box. */
  function rejectPanelKey(event) {
    var panel = event.target.closest && event.target.closest("details.reject-panel");
    if (!panel) { return false; }
    if (event.key === "Escape") {
      panel.open = false;
      select(current);
      return true;
    }
    if (event.target.type === "text") { return false; }
    var radio = panel.querySelector('input[type="radio"][data-key="' + event.key + '"]');
    if (!radio) { return false; }
    radio.checked = true;
    if (radio.value === "other") {
      panel.querySelector("input.reason-text").focus();
    } else {
      panel.querySelector("form").requestSubmit();
    }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (rejectPanelKey(event)) { event.preventDefault(); return; }
    if (event.key === "Escape") {
      document.querySelectorAll("details[open]").forEach(function (d) { d.open = false; });
      return;
    }
    if (isTyping(event.target)) { return; }
    var card = currentCard();
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "a": if (card) { var approve = card.querySelector('button[data-action="approve"]'); if (approve) { approve.click(); } } break;
      case "r": if (card) { openReject(card); } break;
      case "x": if (card) { var box = card.querySelector("input.select"); if (box) { box.checked = !box.checked; updateSelectedCount(); } } break;
      case "u": var undo = document.querySelector("#queue-region button[data-undo]"); if (undo) { undo.click(); } break;
      case "?": toggleHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-help-open]")) { toggleHelp(); return; }
    if (target.closest("[data-help-close]")) { document.getElementById("help").close(); return; }
    var toggle = target.closest("[data-filters-toggle]");
    if (toggle) {
      var box = toggle.closest("[data-filters]");
      var open = box.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    var card = target.closest("#queue-region .card");
    if (card) {
      var index = cards().indexOf(card);
      if (index >= 0 && index !== current) { select(index, false); }
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll("#queue-region input.select").forEach(function (box) { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], #queue-region input.select")) { updateSelectedCount(); }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  /* Unknown failures (a proxy's 502, a lost connection) must not blank the queue. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.status !== 409 && xhr.status !== 422 && !xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = false;
      showError(document.body.getAttribute("data-error-text").replace("{status}", String(xhr.status)));
    }
  });

  document.addEventListener("htmx:sendError", function () {
    showError(document.body.getAttribute("data-error-text").replace("{status}", "0"));
  });

  /* After an action the decided card is gone: the same position now holds the next one.
   * On afterSettle, because htmx's settle step resets the class of elements it kept (same id). */
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target || event.target.id !== "queue-region") { return; }
    var box = document.getElementById("global-messages");
    if (box) { box.replaceChildren(); }
    select(current);
    updateSelectedCount();
    announce();
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (cards().length) { select(0, false); }
  });
})();
