// Chat page: asks through /api/ask without a reload, keeps the conversation in localStorage,
// and shows the filters as removable chips. Paper text only ever goes into textContent.
(() => {
  "use strict";

  const STORAGE_KEY = "scrutiny.conversation.v1";
  const MAX_STORED = 30;
  const FILTER_LABELS = { authority: "Council", committee: "Committee", since: "From", until: "Until", doc_id: "Paper" };
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  const DATE_FILTERS = ["since", "until"];
  const MAX_HISTORY_TURNS = 10;
  const CONFIDENCE_TITLES = { answer: "Answer", possible: "Possible answer: check the source", not_found: "Not found in the papers" };
  const ANNOUNCEMENTS = {
    answer: "Answer received.",
    possible: "A possible answer was found: check the source.",
    not_found: "Not found in the papers; the nearest passages are listed.",
  };
  const VERDICT_LABELS = { met: "Target met", "not met": "Target not met", unclear: "Unclear whether the target was met" };

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

  // Dates: "2016-02-01" as "1 February 2016" (the page's one way of writing a date); typed dates as
  // 15/03/2005 or 2005-03-15, as the server reads them.
  function validDay(year, month, day) {
    const when = new Date(Date.UTC(year, month - 1, day));
    return when.getUTCFullYear() === year && when.getUTCMonth() === month - 1 && when.getUTCDate() === day;
  }

  function humanDate(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!match || !validDay(Number(match[1]), Number(match[2]), Number(match[3]))) return iso || "";
    return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
  }

  function isoFromTyped(text) {
    const value = (text || "").trim();
    if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value)) return humanDate(value) !== value ? value : null;
    const uk = /^([0-9]{1,2})\/([0-9]{1,2})\/([0-9]{4})$/.exec(value);
    if (!uk || !validDay(Number(uk[3]), Number(uk[2]), Number(uk[1]))) return null;
    return `${uk[3]}-${uk[2].padStart(2, "0")}-${uk[1].padStart(2, "0")}`;
  }

  function filterValueLabel(name, value) {
    const iso = DATE_FILTERS.includes(name) ? isoFromTyped(value) : null;
    return iso ? humanDate(iso) : value;
  }

  function withLongDates(text) {
    return text.replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, (iso) => humanDate(iso));
  }

  function locationLabel(page, sections) {
    const parts = [];
    if (page) parts.push(`page ${page}`);
    if (sections.length === 1) parts.push(`section ${sections[0]}`);
    else if (sections.length) parts.push(`sections ${sections.slice(0, -1).join(", ")} and ${sections[sections.length - 1]}`);
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

  function citedHref(docId, chunkId, spans, row) {
    let query = `hl=${chunkId}`;
    if (spans.length) query += `&spans=${spans.map(([start, end]) => `${start}-${end}`).join(",")}`;
    if (row) query += `&row=${row}`;
    return `/documents/${encodeURIComponent(docId)}?${query}#chunk-${chunkId}`;
  }

  function webUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
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

  // Excerpts: the same cuts as the server's excerpt_pieces. Offsets from the server count code points,
  // so the text is handled as an array of code points rather than a UTF-16 string.
  const EXCERPT_CONTEXT_CHARS = 200;
  const OPENING_CHARS = 280;

  function quotedSpan(chars, quote) {
    const words = (quote || "").split(/\s+/).filter(Boolean);
    if (!words.length) return null;
    const text = chars.join("");
    const pattern = new RegExp(words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"), "u");
    const match = pattern.exec(text);
    if (!match) return null;
    const start = Array.from(text.slice(0, match.index)).length;
    return [start, start + Array.from(match[0]).length];
  }

  function mergedSpans(spans, length) {
    const clamped = spans
      .map(([start, end]) => [Math.max(0, Math.min(Number(start), length)), Math.max(0, Math.min(Number(end), length))])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged = [];
    for (const [start, end] of clamped) {
      if (end <= start) continue;
      const last = merged[merged.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else merged.push([start, end]);
    }
    return merged;
  }

  function indexOfSpace(chars, from, to) {
    for (let i = Math.max(0, from); i < Math.min(to, chars.length); i++) if (chars[i] === " ") return i;
    return -1;
  }

  function lastIndexOfSpace(chars, from, to) {
    for (let i = Math.min(to, chars.length) - 1; i >= Math.max(0, from); i--) if (chars[i] === " ") return i;
    return -1;
  }

  function windowStart(chars, position, context) {
    const start = position - context;
    if (start <= 0) return 0;
    const space = indexOfSpace(chars, start, position);
    return space >= 0 && space < start + Math.floor(context / 2) ? space + 1 : start;
  }

  function windowEnd(chars, position, context) {
    const end = position + context;
    if (end >= chars.length) return chars.length;
    const space = lastIndexOfSpace(chars, position, end);
    return space > end - Math.floor(context / 2) ? space : end;
  }

  function excerptPieces(chars, spans, context) {
    const text = (from, to) => chars.slice(from, to).join("");
    const merged = mergedSpans(spans, chars.length);
    if (!merged.length) {
      const end = windowEnd(chars, 0, 2 * context);
      return [{ text: text(0, end) + (end < chars.length ? "\u2026" : "") }];
    }
    const windows = [];
    for (const [start, end] of merged) {
      const opening = windowStart(chars, start, context);
      const closing = windowEnd(chars, end, context);
      const last = windows[windows.length - 1];
      if (last && opening <= last[1]) last[1] = Math.max(last[1], closing);
      else windows.push([opening, closing]);
    }
    const pieces = [];
    for (const [opening, closing] of windows) {
      let cursor = opening;
      let plain = opening > 0 ? "\u2026" : "";
      for (const [start, end] of merged) {
        if (start < opening || end > closing) continue;
        pieces.push({ text: plain + text(cursor, start) });
        pieces.push({ text: text(start, end), marked: true });
        cursor = end;
        plain = "";
      }
      pieces.push({ text: plain + text(cursor, closing) + (closing < chars.length ? "\u2026 " : "") });
    }
    return pieces.filter((piece) => piece.text);
  }

  // The numbered paragraph a quote sits in: the last label at a line start before it in the passage.
  function quoteSection(chars, position, fallback) {
    const before = chars.slice(0, Math.max(0, position) + 1).join("");
    const label = /^[ \t]*([0-9]{1,3}(?:\.[0-9]{1,3}){0,3})\.?[ \t]+(?=[^\s|0-9])/gm;
    let found = null;
    for (const match of before.matchAll(label)) found = match[1];
    return found || fallback;
  }

  function quoteSections(chars, spans, fallback) {
    const found = spans.length ? spans.map(([start]) => quoteSection(chars, start, fallback)) : [fallback];
    return [...new Set(found)].filter(Boolean);
  }

  // The answer record (see README: `scrutiny ask --json`); records from before the confidence levels
  // were added are read as an answer when found.
  function confidenceOf(record) {
    if (Object.prototype.hasOwnProperty.call(CONFIDENCE_TITLES, record.confidence)) return record.confidence;
    return record.found ? "answer" : "not_found";
  }

  function citedNumbers(record) {
    const citations = record.citations || [];
    if (citations.some((c) => Object.prototype.hasOwnProperty.call(c, "cited"))) {
      return new Set(citations.map((c, i) => (c.cited ? i + 1 : 0)).filter(Boolean));
    }
    const byLine = new Set((record.lines || []).map((line) => line.citation));
    return new Set(citations.map((c, i) => (byLine.has(i + 1) || c.highlight ? i + 1 : 0)).filter(Boolean));
  }

  function highlightsOf(record, number, chars) {
    const citation = record.citations[number - 1];
    if (Array.isArray(citation.highlights)) return mergedSpans(citation.highlights, chars.length);
    const spans = citation.highlight ? [citation.highlight] : [];
    for (const line of record.lines || []) {
      const found = line.citation === number ? quotedSpan(chars, line.text) : null;
      if (found) spans.push(found);
    }
    return mergedSpans(spans, chars.length);
  }

  function quotedLines(record) {
    const citations = record.citations || [];
    const lines = (record.lines || []).filter((line) => line.citation >= 1 && line.citation <= citations.length);
    const several = new Set(lines.map((line) => citations[line.citation - 1].doc_id)).size > 1;
    const ordered = [...lines.filter((line) => line.role === "lead"), ...lines.filter((line) => line.role !== "lead")];
    return ordered.map((line, index) => {
      const citation = citations[line.citation - 1];
      const source = [citation.authority, humanDate(citation.date)].filter(Boolean).join(", ");
      const label = several && source ? `${source}: ` : "";
      return {
        role: line.role || (index === 0 ? "lead" : "support"),
        segments: [{ text: `${label}\u201c${line.text || ""}\u201d ` }, { text: `[${line.citation}]`, citation: line.citation }],
      };
    });
  }

  function textLines(record) {
    const count = (record.citations || []).length;
    const rows = (record.answer || "").split("\n").filter((row) => row.trim());
    const message = confidenceOf(record) === "not_found";
    return rows.map((row, index) => ({
      role: message ? "message" : index === 0 ? "lead" : "support",
      segments: answerSegments(withLongDates(row), count),
    }));
  }

  function cardLines(record) {
    if (confidenceOf(record) !== "not_found" && "confidence" in record && (record.lines || []).length) return quotedLines(record);
    return textLines(record);
  }

  function renderCitation(record, number, answerId, cited) {
    const citation = record.citations[number - 1];
    const id = `${answerId}-cite-${number}`;
    const chars = Array.from(citation.text || "");
    const spans = cited ? highlightsOf(record, number, chars) : [];
    const sections = quoteSections(chars, spans, citation.section);
    const pieces = cited ? excerptPieces(chars, spans, EXCERPT_CONTEXT_CHARS) : excerptPieces(chars, [], OPENING_CHARS / 2);
    const meta = [
      citation.authority, citation.committee,
      citation.date ? el("time", { datetime: citation.date, text: humanDate(citation.date) }) : null,
      citation.reference ? `ref. ${citation.reference}` : null,
      locationLabel(citation.page, sections),
    ].filter(Boolean);
    const source = webUrl(citation.source_url);
    const links = [];
    if (source) links.push(el("a", { href: source, rel: "noopener noreferrer", text: "The paper on the council\u2019s website" }));
    if (source && citation.ocr) links.push(" · ");
    if (citation.ocr) links.push(el("span", { className: "ocr-note", text: "Text read from a scan: check the original" }));
    return el("li", { className: "citation", id }, [
      el("article", { className: "citation-card", "aria-labelledby": `${id}-title` }, [
        el("h5", { className: "citation-title", id: `${id}-title` }, [
          el("span", { className: "citation-number", text: `[${number}]` }), " ",
          el("a", { href: citedHref(citation.doc_id, citation.chunk_id, spans, cited ? citation.row : null), text: citation.title || citation.doc_id }),
        ]),
        el("p", { className: "citation-meta" }, meta.flatMap((part, index) => (index ? [" · ", part] : [part]))),
        el("blockquote", { className: "excerpt" }, pieces.map((piece) => (piece.marked ? el("mark", { text: piece.text }) : piece.text))),
        links.length ? el("p", { className: "citation-links" }, links) : null,
      ]),
    ]);
  }

  function renderLine(line, answerId) {
    return el("p", { className: `answer-line answer-line--${line.role}` }, line.segments.map((segment) => (segment.citation
      ? el("a", { className: "marker", href: `#${answerId}-cite-${segment.citation}`, "aria-label": `Source ${segment.citation}`, text: segment.text })
      : segment.text)));
  }

  function renderAnswer(entry) {
    const answer = entry.answer;
    const answerId = `answer-js-${++answerCount}`;
    const confidence = confidenceOf(answer);
    const cited = confidence === "not_found" ? new Set() : citedNumbers(answer);
    const numbers = (answer.citations || []).map((_, index) => index + 1);
    const citedItems = numbers.filter((n) => cited.has(n)).map((n) => renderCitation(answer, n, answerId, true));
    const otherItems = numbers.filter((n) => !cited.has(n)).map((n) => renderCitation(answer, n, answerId, false));
    const tags = Object.keys(FILTER_LABELS)
      .filter((name) => entry.filters && entry.filters[name])
      .map((name) => el("span", { className: "tag", text: `${FILTER_LABELS[name]}: ${filterValueLabel(name, entry.filters[name])}` }));
    const url = shareUrl(shareableQuestion(answer), entry.filters, entry.mode);
    const verdict = answer.verdict && typeof answer.verdict === "object" ? answer.verdict : null;
    const verdictStatus = verdict && VERDICT_LABELS[verdict.status] ? verdict.status : "unclear";
    const decision = typeof answer.decision_ref === "string" && answer.decision_ref ? answer.decision_ref : null;
    return el("li", { className: "exchange", id: answerId }, [
      el("p", { className: "question-bubble" }, [el("span", { className: "visually-hidden", text: "You asked: " }), answer.question]),
      el("article", { className: `answer answer--${confidence.replace("_", "-")}`, tabindex: "-1", "aria-labelledby": `${answerId}-title` }, [
        el("h3", { className: "answer-title", id: `${answerId}-title`, text: CONFIDENCE_TITLES[confidence] }),
        answer.read_as ? el("p", { className: "read-as", text: `Read as: ${answer.read_as}` }) : null,
        answer.notice ? el("p", { className: "notice", text: answer.notice }) : null,
        el("div", { className: "answer-lines" }, cardLines(answer).map((line) => renderLine(line, answerId))),
        verdict ? el("p", { className: `verdict verdict--${verdictStatus.replace(" ", "-")}` },
          [el("strong", { text: `${VERDICT_LABELS[verdictStatus]}.` }), ` ${verdict.text || ""}`]) : null,
        decision ? el("p", { className: "decision-link" }, [el("a", {
          href: `/decisions/${encodeURIComponent(decision)}`,
          text: `Decision ${decision}: every paper on it, in date order`,
        })]) : null,
        tags.length ? el("p", { className: "answer-filters" }, ["Filtered by ", ...tags.flatMap((tag) => [tag, " "])]) : null,
        citedItems.length ? el("details", { className: "sources", open: true }, [
          el("summary", { text: `Sources (${citedItems.length})` }), el("ol", { className: "citations" }, citedItems),
        ]) : null,
        otherItems.length ? el("details", { className: "other-passages" }, [
          el("summary", { text: `${confidence === "not_found" ? "Nearest passages" : "Other passages"} (${otherItems.length})` }),
          el("ol", { className: "citations" }, otherItems),
        ]) : null,
        el("p", { className: "answer-actions" }, [
          el("a", { className: "share-link", href: url, text: "Link to this answer" }), " ",
          el("button", { type: "button", className: "copy-link button-secondary", "data-url": url, text: "Copy link" }),
        ]),
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

  // A follow-up ("and what about 2005?") means nothing without the turns before it, so its link asks the
  // question as it was completed from them.
  function shareableQuestion(answer) {
    return typeof answer.complete_question === "string" && answer.complete_question ? answer.complete_question : answer.question;
  }

  function entryKey(entry) {
    return shareUrl(shareableQuestion(entry.answer), entry.filters, entry.mode);
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
      const label = `${FILTER_LABELS[name]}: ${filterValueLabel(name, value)}`;
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

  // Earlier exchanges fold their sources, so a long conversation stays readable; the newest shows them.
  function foldEarlierSources(conversation) {
    const exchanges = [...conversation.children];
    exchanges.forEach((exchange, index) => {
      const sources = exchange.querySelector("details.sources");
      if (sources) sources.open = index === exchanges.length - 1;
    });
  }

  function turnsBefore(history) {
    return history.slice(-MAX_HISTORY_TURNS).map((entry) => ({
      question: entry.answer.question,
      read_as: typeof entry.answer.read_as === "string" ? entry.answer.read_as : null,
    }));
  }

  function addressWithoutQuestion() {
    const url = new URL(window.location.href);
    url.searchParams.delete("q");
    const query = url.searchParams.toString();
    return url.pathname + (query ? `?${query}` : "") + url.hash;
  }

  function initChat(form) {
    const conversation = document.getElementById("conversation");
    const clearButton = document.getElementById("clear-conversation");
    const question = document.getElementById("question");
    const askButton = document.getElementById("ask-button");
    const askTitle = document.getElementById("ask-title");
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
      // Earlier answers now sit above the one the link is for: bring it back into view.
      if (history.length > 1) rendered.scrollIntoView({ block: "start" });
    } else {
      for (const entry of history) conversation.append(renderAnswer(entry));
    }
    foldEarlierSources(conversation);
    conversation.setAttribute("aria-live", "polite");
    for (const button of conversation.querySelectorAll(".copy-link")) button.hidden = false;
    clearButton.hidden = history.length === 0;
    askTitle.textContent = history.length ? "Ask another question" : "Ask a question";
    const enterHint = document.getElementById("enter-hint");
    if (enterHint) enterHint.hidden = false;

    document.addEventListener("click", (event) => {
      const button = event.target.closest(".copy-link");
      if (button) copyLink(button);
    });

    clearButton.addEventListener("click", () => {
      history = [];
      saveHistory(history);
      conversation.replaceChildren();
      clearButton.hidden = true;
      askTitle.textContent = "Ask a question";
      window.history.replaceState(null, "", addressWithoutQuestion());
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
          body: JSON.stringify({ question: text, history: turnsBefore(history), filters, mode }),
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
        foldEarlierSources(conversation);
        askTitle.textContent = "Ask another question";
        clearButton.hidden = false;
        question.value = "";
        window.history.replaceState(null, "", entryKey(entry));
        // The new answer takes the focus, so keyboard and screen-reader users land on it, not on the form below.
        item.scrollIntoView({ block: "start" });
        item.querySelector("article.answer").focus({ preventScroll: true });
        announce(ANNOUNCEMENTS[confidenceOf(body)]);
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
