// migrator replay report: the case table, its filters, and the P | C | S view of one case.
// Case content is untrusted: every value reaches the page through textContent, never as markup.
(function () {
  "use strict";

  var PAGE = 500; // rows drawn at a time; "show more" draws the next page
  var ARMS = ["P", "C", "S"];
  var ARM_NAMES = { P: "P: chat", C: "C: responses (translated)", S: "S: chat again (noise)" };
  // rows of the side-by-side, by the judge's field names (FieldDiff.field)
  var ROWS = [
    ["status", "status"], ["error", "error"], ["finish", "finish"], ["text", "text"], ["refusal", "refusal"],
    ["tool_calls", "tool calls"], ["structured", "structured output"], ["usage.input", "input tokens"],
    ["usage.output", "output tokens"], ["choices", "choices"], ["model", "model"], ["ttft_ms", "first token (ms)"], ["total_ms", "total (ms)"],
    ["stream", "stream envelope"]
  ];

  var cases = JSON.parse(document.getElementById("cases").textContent);
  var tbody = document.querySelector("#case-table tbody");
  var more = document.getElementById("more");
  var shown = document.getElementById("shown");
  var state = { verdict: "all", field: "", explained: "", query: "" };
  var matches = [];
  var drawn = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function show(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "string") return value;
    return JSON.stringify(value, null, 1);
  }

  function explainedCase(c) {
    if (!c.fields.length) return false;
    for (var i = 0; i < c.fields.length; i++) if (!c.fields[i].explained_by.length) return false;
    return true;
  }

  function matchesFilters(c) {
    if (state.verdict !== "all" && c.verdict !== state.verdict) return false;
    if (state.field) {
      var found = false;
      for (var i = 0; i < c.fields.length; i++) if (c.fields[i].field === state.field) found = true;
      if (!found) return false;
    }
    if (state.explained) {
      if (c.verdict !== "divergent") return false;
      if ((state.explained === "explained") !== explainedCase(c)) return false;
    }
    if (state.query) {
      var hay = (c.id + " " + c.source + ":" + c.line + " " + c.reason).toLowerCase();
      if (hay.indexOf(state.query) < 0) return false;
    }
    return true;
  }

  function apply() {
    matches = [];
    for (var i = 0; i < cases.length; i++) if (matchesFilters(cases[i])) matches.push(cases[i]);
    tbody.textContent = "";
    drawn = 0;
    drawMore();
  }

  function drawMore() {
    var end = Math.min(matches.length, drawn + PAGE);
    for (; drawn < end; drawn++) tbody.appendChild(row(matches[drawn]));
    more.hidden = drawn >= matches.length;
    shown.textContent = matches.length + " of " + cases.length + " cases on this page match" +
      (drawn < matches.length ? " (" + drawn + " drawn)" : "");
  }

  function row(c) {
    var tr = el("tr", "case-row " + c.verdict);
    tr.dataset.verdict = c.verdict;
    tr.tabIndex = 0;
    var badge = el("td");
    badge.appendChild(el("span", "badge " + c.verdict, c.verdict));
    tr.appendChild(badge);
    tr.appendChild(el("td", "id", c.id));
    tr.appendChild(el("td", "where", c.source + (c.line ? ":" + c.line : "")));
    tr.appendChild(el("td", "reason", c.reason));
    var chips = el("td", "chips");
    c.fields.forEach(function (f) {
      var chip = el("span", "chip " + (f.explained_by.length ? "explained" : "unexplained"), f.field);
      if (f.explained_by.length) chip.title = "explained by " + f.explained_by.map(function (l) { return l.path; }).join(", ");
      chips.appendChild(chip);
    });
    tr.appendChild(chips);
    function toggle() {
      var next = tr.nextSibling;
      if (next && next.classList && next.classList.contains("detail")) {
        next.remove();
        tr.classList.remove("open");
        return;
      }
      var detailRow = el("tr", "detail");
      var td = el("td");
      td.colSpan = 5;
      td.appendChild(detail(c));
      detailRow.appendChild(td);
      tr.after(detailRow);
      tr.classList.add("open");
    }
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
    return tr;
  }

  function detail(c) {
    var box = el("div", "case-detail");
    box.appendChild(el("p", "case-reason", c.verdict + ": " + c.reason));
    box.appendChild(el("p", "note", "sent in the order " + c.order.join(", ") +
      (c.noise.length ? "; fields where P and S already differ (noise): " + c.noise.join(", ") : "")));
    var samples = 0;
    ARMS.forEach(function (arm) { samples = Math.max(samples, (c.records[arm] || []).length); });
    var holder = el("div", "side-holder");
    if (samples > 1) {
      var picker = el("div", "samples");
      picker.appendChild(el("span", "note", "sample: "));
      for (var k = 0; k < samples; k++) {
        (function (k) {
          var b = el("button", "sample" + (k === 0 ? " active" : ""), String(k + 1));
          b.type = "button";
          b.addEventListener("click", function (e) {
            e.stopPropagation();
            picker.querySelectorAll("button").forEach(function (x) { x.classList.remove("active"); });
            b.classList.add("active");
            holder.textContent = "";
            holder.appendChild(sideBySide(c, k));
          });
          picker.appendChild(b);
        })(k);
      }
      box.appendChild(picker);
    }
    holder.appendChild(sideBySide(c, 0));
    box.appendChild(holder);
    box.appendChild(differences(c));
    box.appendChild(lossList(c));
    box.appendChild(scores(c));
    box.addEventListener("click", function (e) { e.stopPropagation(); });
    return box;
  }

  function sideBySide(c, k) {
    var differing = {};
    c.fields.forEach(function (f) { differing[f.field] = f; });
    var noisy = {};
    c.noise.forEach(function (f) { noisy[f] = true; });
    var table = el("table", "side");
    var head = el("tr");
    head.appendChild(el("th", "", ""));
    ARMS.forEach(function (arm) { head.appendChild(el("th", "arm-" + arm, ARM_NAMES[arm])); });
    table.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    var req = el("tr", "request");
    req.appendChild(el("th", "", "request"));
    ARMS.forEach(function (arm) {
      var td = el("td");
      var pairs = arm === "C" ? c.request.responses : c.request.chat;
      var dl = el("dl");
      pairs.forEach(function (p) { dl.appendChild(el("dt", "", p[0])); dl.appendChild(el("dd", "", p[1])); });
      td.appendChild(dl);
      req.appendChild(td);
    });
    body.appendChild(req);
    ROWS.forEach(function (r) {
      var name = r[0];
      var values = ARMS.map(function (arm) { var recs = c.records[arm] || []; return recs[k] ? value(recs[k], name) : undefined; });
      var differs = Object.prototype.hasOwnProperty.call(differing, name);
      if (!differs && values.every(function (v) { return v === null || v === undefined || v === ""; })) return;
      var tr = el("tr", "field-" + name.replace(/[^a-z_]/g, "-") + (differs ? " diff" : "") + (noisy[name] ? " noise" : ""));
      tr.dataset.field = name;
      var th = el("th", "", r[1] + (differs ? " ≠" : "") + (noisy[name] ? " (noise)" : ""));
      if (differs) th.title = differing[name].detail;
      tr.appendChild(th);
      values.forEach(function (v) { tr.appendChild(el("td", "value", v === undefined ? "(no sample)" : show(v))); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }

  function value(rec, name) {
    if (name === "usage.input") return rec.usage ? rec.usage.input : null;
    if (name === "usage.output") return rec.usage ? rec.usage.output : null;
    if (name === "tool_calls") {
      if (!rec.tool_calls.length) return null;
      return rec.tool_calls.map(function (t) {
        return t.name + "(" + (typeof t.arguments === "string" ? t.arguments : JSON.stringify(t.arguments)) + ")" + (t.valid ? "" : " [invalid arguments]");
      }).join("\n");
    }
    if (name === "structured") return rec.structured ? (rec.structured.valid ? "valid" : "invalid: " + (rec.structured.error || "")) : null;
    if (name === "stream") {
      var s = rec.stream;
      if (!s) return null;
      return s.events + " events; event: lines " + (s.event_lines ? "yes" : "no") + "; [DONE] " + (s.done ? "yes" : "no") +
        "; sequence numbers " + (s.sequence_numbers ? "yes" : "no") + "; terminal " + (s.terminal || "none") +
        (s.rebuilt_matches_terminal === false ? "; rebuilt text differs from the terminal object" : "");
    }
    if (name === "ttft_ms" || name === "total_ms") return typeof rec[name] === "number" ? rec[name].toFixed(1) : rec[name];
    return rec[name];
  }

  function differences(c) {
    var box = el("div", "differences");
    if (!c.fields.length) {
      box.appendChild(el("p", "note", c.verdict === "equivalent" ? "No field differs beyond the noise." : "No field list."));
      return box;
    }
    box.appendChild(el("h3", "", c.verdict === "error" ? "What failed" : "Differences beyond the noise"));
    var list = el("ul");
    c.fields.forEach(function (f) {
      var li = el("li", "diff-item " + (f.explained_by.length ? "explained" : "unexplained"));
      li.appendChild(el("code", "", f.field));
      li.appendChild(document.createTextNode(": " + f.detail));
      if (f.explained_by.length) {
        f.explained_by.forEach(function (l) {
          var verb = l.kind === "approximated" ? " was approximated" : " was dropped";
          li.appendChild(el("div", "loss", "differs because " + l.path + verb + " in the translation (" + l.kind + "): " + l.reason));
        });
      } else {
        li.appendChild(el("div", "unexplained-note", "no translation loss explains this"));
      }
      var vals = el("div", "vals");
      ARMS.forEach(function (arm) { vals.appendChild(el("span", "val arm-" + arm, arm + ": " + show(f[arm]))); });
      li.appendChild(vals);
      list.appendChild(li);
    });
    box.appendChild(list);
    return box;
  }

  function lossList(c) {
    var box = el("div", "losses");
    box.appendChild(el("h3", "", "Translation losses"));
    if (!c.losses.length) {
      box.appendChild(el("p", "note", "none: the engine carried every field"));
      return box;
    }
    var list = el("ul");
    c.losses.forEach(function (l) {
      var li = el("li");
      li.appendChild(el("code", "", l.path));
      li.appendChild(document.createTextNode(" " + l.kind + ": " + l.reason));
      list.appendChild(li);
    });
    box.appendChild(list);
    return box;
  }

  function scores(c) {
    var parts = [];
    Object.keys(c.scores || {}).forEach(function (pair) {
      parts.push(pair + " " + c.scores[pair].map(function (s) { return Number(s).toFixed(2); }).join(", "));
    });
    return el("p", "note scores", parts.length ? "text similarity per sample pair: " + parts.join("; ") : "");
  }

  document.querySelectorAll(".verdict-filter").forEach(function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll(".verdict-filter").forEach(function (x) { x.classList.remove("active"); });
      b.classList.add("active");
      state.verdict = b.dataset.verdict;
      apply();
    });
  });
  document.getElementById("field-filter").addEventListener("change", function (e) { state.field = e.target.value; apply(); });
  document.getElementById("explained-filter").addEventListener("change", function (e) { state.explained = e.target.value; apply(); });
  document.getElementById("search").addEventListener("input", function (e) { state.query = e.target.value.trim().toLowerCase(); apply(); });
  more.addEventListener("click", drawMore);
  apply();
})();
