// Chat page: asks through /api/ask without a reload, keeps the conversation in localStorage,
// and shows the filters as removable chips. Paper text only ever goes into textContent.
(() => {
  "use strict";

  const STORAGE_KEY = "scrutiny.conversation.v1";
  const MAX_STORED = 30;
  const FILTER_LABELS = { authority: "Council", committee: "Committee", since: "From", until: "Until", doc_id: "Paper" };
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];

  let answerCount = 0;

  function el(tag, attributes = {}, children = []) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function humanDate(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!match) return iso || "";
    return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
  }

  function locationLabel(page, section) {
    const parts = [];
    if (page) parts.push(`page ${page}`);
    if (section) parts.push(`section ${section}`);
    return parts.join(", ");
  }

  function shareUrl(question, filters, mode) {
    const params = new URLSearchParams({ q: question });
    for (const name of Object.keys(FILTER_LABELS)) {
      if (filters && filters[name]) params.set(name, filters[name]);
    }
    if (mode) params.set("mode", mode);
    return "/?" + params.toString();
  }

  function documentHref(docId, chunkId) {
    return `/documents/${encodeURIComponent(docId)}?hl=${chunkId}#chunk-${chunkId}`;
  }

  // A citation marker ends its line; a "[115]" quoted from a paper sits inside the quotation marks.
  function answerSegments(text, citations) {
    const segments = [];
    const marker = /\[(\d+)\](?=[ \t]*(?:\n|$))/g;
    let cursor = 0;
    for (const match of text.matchAll(marker)) {
      const number = Number(match[1]);
      if (number < 1 || number > citations) continue;
      if (match.index > cursor) segments.push({ text: text.slice(cursor, match.index) });
      segments.push({ text: match[0], citation: number });
      cursor = match.index + match[0].length;
    }
    if (cursor < text.length) segments.push({ text: text.slice(cursor) });
    return segments;
  }

  const EXCERPT_CONTEXT_CHARS = 300;

  // Same cuts as the server's excerpt_parts: a window around the highlight, at word boundaries.
  // Offsets from the server count code points, so slice arrays of code points rather than UTF-16 strings.
  function leadingContext(chars, limit) {
    if (chars.length <= limit) return chars.join("");
    const cut = chars.slice(-limit);
    const space = cut.indexOf(" ");
    return "\u2026" + (space >= 0 && space < limit / 2 ? cut.slice(space + 1) : cut).join("");
  }

  function trailingContext(chars, limit) {
    if (chars.length <= limit) return chars.join("");
    const cut = chars.slice(0, limit);
    const space = cut.lastIndexOf(" ");
    return (space > limit / 2 ? cut.slice(0, space) : cut).join("") + "\u2026";
  }

  function excerptParts(citation) {
    const chars = Array.from(citation.text || "");
    if (!citation.highlight) return [trailingContext(chars, 2 * EXCERPT_CONTEXT_CHARS), "", ""];
    const start = Math.max(0, Math.min(citation.highlight[0], chars.length));
    const end = Math.max(start, Math.min(citation.highlight[1], chars.length));
    return [leadingContext(chars.slice(0, start), EXCERPT_CONTEXT_CHARS), chars.slice(start, end).join(""),
      trailingContext(chars.slice(end), EXCERPT_CONTEXT_CHARS)];
  }

  function metaItem(term, value) {
    return value ? el("div", {}, [el("dt", { text: term }), el("dd", {}, [value])]) : null;
  }

  function renderCitation(citation, number, answerId) {
    const id = `${answerId}-cite-${number}`;
    const [before, marked, after] = excerptParts(citation);
    const date = citation.date ? el("time", { datetime: citation.date, text: humanDate(citation.date) }) : null;
    return el("li", { className: "citation", id }, [
      el("article", { className: "citation-card", "aria-labelledby": `${id}-title` }, [
        el("h5", { className: "citation-title", id: `${id}-title` }, [
          el("span", { className: "citation-number", text: `[${number}]` }), " ",
          el("a", { href: documentHref(citation.doc_id, citation.chunk_id), text: citation.title || citation.doc_id }),
        ]),
        el("dl", { className: "citation-meta" }, [
          metaItem("Council", citation.authority),
          metaItem("Committee", citation.committee),
          metaItem("Date", date),
          metaItem("Reference", citation.reference),
          metaItem("Where", locationLabel(citation.page, citation.section)),
        ]),
        el("blockquote", { className: "excerpt" }, [before, marked ? el("mark", { text: marked }) : null, after]),
      ]),
    ]);
  }

  function renderAnswer(entry) {
    const answer = entry.answer;
    const answerId = `answer-js-${++answerCount}`;
    const text = el("p", { className: "answer-text" });
    for (const segment of answerSegments(answer.answer || "", (answer.citations || []).length)) {
      text.append(segment.citation
        ? el("a", { className: "marker", href: `#${answerId}-cite-${segment.citation}`, "aria-label": `Source ${segment.citation}`, text: segment.text })
        : document.createTextNode(segment.text));
    }
    const tags = Object.keys(FILTER_LABELS)
      .filter((name) => entry.filters && entry.filters[name])
      .map((name) => el("span", { className: "tag", text: `${FILTER_LABELS[name]}: ${entry.filters[name]}` }));
    const url = shareUrl(answer.question, entry.filters, entry.mode);
    const citations = (answer.citations || []).map((citation, index) => renderCitation(citation, index + 1, answerId));
    return el("li", { className: "exchange", id: answerId }, [
      el("p", { className: "question-bubble" }, [el("span", { className: "visually-hidden", text: "You asked: " }), answer.question]),
      el("article", { className: `answer ${answer.found ? "answer--found" : "answer--not-found"}`, "aria-labelledby": `${answerId}-title` }, [
        el("h3", { className: "answer-title", id: `${answerId}-title`, text: answer.found ? "Answer" : "Not found in the papers" }),
        text,
        tags.length ? el("p", { className: "answer-filters" }, ["Filtered by ", ...tags.flatMap((tag) => [tag, " "])]) : null,
        el("p", { className: "answer-actions" }, [
          el("a", { className: "share-link", href: url, text: "Link to this answer" }), " ",
          el("button", { type: "button", className: "copy-link button-secondary", "data-url": url, text: "Copy link" }),
        ]),
        citations.length ? el("h4", { className: "citations-title", text: answer.found ? "Sources" : "Nearest passages" }) : null,
        citations.length ? el("ol", { className: "citations" }, citations) : null,
      ]),
    ]);
  }

  // Conversation storage ------------------------------------------------------------------
  function isEntry(entry) {
    return entry && entry.answer && typeof entry.answer.question === "string" && Array.isArray(entry.answer.citations);
  }

  function loadHistory() {
    try {
      const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
      return Array.isArray(stored) ? stored.filter(isEntry) : [];
    } catch (error) {
      return [];
    }
  }

  function saveHistory(entries) {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(entries.slice(-MAX_STORED)));
    } catch (error) {
      // Storage full or disabled: the conversation still shows, it just will not survive a reload.
    }
  }

  function entryKey(entry) {
    return shareUrl(entry.answer.question, entry.filters, entry.mode);
  }

  function readInitialEntry() {
    const data = document.getElementById("initial-answer");
    if (!data) return null;
    try {
      const entry = JSON.parse(data.textContent);
      return isEntry(entry) ? entry : null;
    } catch (error) {
      return null;
    }
  }

  // Filters and chips ---------------------------------------------------------------------
  function filterField(form, name) {
    return form.querySelector(`[name="${name}"]`);
  }

  function currentFilters(form) {
    const filters = {};
    for (const name of Object.keys(FILTER_LABELS)) {
      const field = filterField(form, name);
      if (field && field.value.trim()) filters[name] = field.value.trim();
    }
    return filters;
  }

  function renderChips(form) {
    const list = document.getElementById("filter-chips");
    if (!list) return;
    list.replaceChildren();
    for (const [name, value] of Object.entries(currentFilters(form))) {
      const label = `${FILTER_LABELS[name]}: ${value}`;
      const button = el("button", { type: "button", className: "chip", "data-filter": name, "aria-label": `Remove filter ${label}` },
        [label + " ", el("span", { "aria-hidden": "true", text: "×" })]);
      button.addEventListener("click", () => {
        const field = filterField(form, name);
        field.value = "";
        renderChips(form);
        (field.type === "hidden" ? document.getElementById("question") : field).focus();
      });
      list.append(el("li", {}, [button]));
    }
  }

  // Page wiring ---------------------------------------------------------------------------
  function announce(message) {
    const status = document.getElementById("ask-status");
    if (status) status.textContent = message;
  }

  function showError(message) {
    let box = document.getElementById("form-error");
    if (!box) {
      box = el("div", { className: "banner banner--error", role: "alert", id: "form-error" });
      document.getElementById("ask-form").before(box);
    }
    box.replaceChildren(el("p", { text: message }));
  }

  function clearError() {
    const box = document.getElementById("form-error");
    if (box) box.remove();
  }

  async function copyLink(button) {
    const url = new URL(button.dataset.url, window.location.href).href;
    try {
      await navigator.clipboard.writeText(url);
      announce("Link copied.");
    } catch (error) {
      announce(`Copy this link: ${url}`);
    }
  }

  function initChat(form) {
    const conversation = document.getElementById("conversation");
    const clearButton = document.getElementById("clear-conversation");
    const question = document.getElementById("question");
    const askButton = document.getElementById("ask-button");
    let history = loadHistory();

    // Restoring earlier answers is not news: keep the live region quiet meanwhile.
    conversation.setAttribute("aria-live", "off");
    const initial = readInitialEntry();
    if (initial) {
      const last = history[history.length - 1];
      if (!last || entryKey(last) !== entryKey(initial)) history.push(initial);
      saveHistory(history);
      const rendered = conversation.firstElementChild;
      for (const entry of history.slice(0, -1)) conversation.insertBefore(renderAnswer(entry), rendered);
    } else {
      for (const entry of history) conversation.append(renderAnswer(entry));
    }
    conversation.setAttribute("aria-live", "polite");
    for (const button of conversation.querySelectorAll(".copy-link")) button.hidden = false;
    clearButton.hidden = history.length === 0;

    document.addEventListener("click", (event) => {
      const button = event.target.closest(".copy-link");
      if (button) copyLink(button);
    });

    clearButton.addEventListener("click", () => {
      history = [];
      saveHistory(history);
      conversation.replaceChildren();
      clearButton.hidden = true;
      announce("Conversation cleared.");
      question.focus();
    });

    renderChips(form);
    form.addEventListener("change", () => renderChips(form));

    question.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = question.value.trim();
      if (!text) {
        showError("Please type a question.");
        question.focus();
        return;
      }
      const filters = currentFilters(form);
      const mode = filterField(form, "mode").value || null;
      clearError();
      askButton.disabled = true;
      form.setAttribute("aria-busy", "true");
      announce("Searching the papers…");
      try {
        const response = await fetch("/api/ask", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ question: text, filters, mode }),
        });
        const body = await response.json().catch(() => null);
        if (!response.ok || !body) {
          showError((body && body.error) || `The server could not answer (status ${response.status}).`);
          announce("");
          return;
        }
        const entry = { answer: body, filters, mode };
        history.push(entry);
        saveHistory(history);
        const item = renderAnswer(entry);
        conversation.append(item);
        clearButton.hidden = false;
        question.value = "";
        window.history.replaceState(null, "", entryKey(entry));
        item.scrollIntoView({ block: "start" });
        announce(body.found ? "Answer received." : "Not found in the papers; the nearest passages are shown.");
      } catch (error) {
        showError("The server could not be reached. Check that it is running and try again.");
        announce("");
      } finally {
        askButton.disabled = false;
        form.removeAttribute("aria-busy");
      }
    });
  }

  function initDocument() {
    const target = document.querySelector(".chunk--cited") ||
      (window.location.hash.startsWith("#chunk-") && document.getElementById(window.location.hash.slice(1)));
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("ask-form");
    if (form) initChat(form);
    if (document.querySelector(".paper-text")) initDocument();
  });
})();
