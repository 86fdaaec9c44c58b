// jiesu consoles: small progressive enhancements. No inline script anywhere (CSP).
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');

  // HTMX posts carry the session's CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (ev) {
    if (csrf && csrf.content) ev.detail.headers["X-CSRF-Token"] = csrf.content;
  });

  // Enter submits the agent's form; Shift+Enter keeps a new line.
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && t.hasAttribute && t.hasAttribute("data-enter-submit")) {
      ev.preventDefault();
      if (t.form) t.form.requestSubmit();
    }
  });

  // "Use this proposal": copy a value into the form's control.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("[data-fill]") : null;
    if (b) {
      var el = document.getElementById(b.getAttribute("data-fill"));
      if (el) { el.value = b.getAttribute("data-value"); el.dispatchEvent(new Event("change")); }
      return;
    }
    var all = ev.target.closest ? ev.target.closest("[data-check-all]") : null;
    if (all) {
      var boxes = document.querySelectorAll('input[name="' + all.getAttribute("data-check-all") + '"]');
      boxes.forEach(function (x) { x.checked = all.checked; });
    }
  });

  // Due times count down in the browser; the server renders the same text first.
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var secs = Math.floor((due - now) / 1000), sign = secs < 0 ? "-" : "";
      secs = Math.abs(secs);
      var d = Math.floor(secs / 86400), h = Math.floor((secs % 86400) / 3600), m = Math.floor((secs % 3600) / 60);
      el.textContent = sign + (d ? d + "d " : "") + pad(h) + ":" + pad(m);
      el.classList.toggle("overdue", sign === "-");
      el.classList.toggle("soon", sign === "" && due - now < 4 * 3600 * 1000);
    });
  }
  if (document.querySelector("[data-due][data-live]")) setInterval(tick, 30000);

  // Auto-submit controls (filters, month slider) once the user settles on a value.
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.hasAttribute && t.hasAttribute("data-autosubmit") && t.form) t.form.requestSubmit();
  });
})();

// The agent's three cascading category selects. Without script the third select alone lists
// every leaf (grouped by its path), so the form still works; with it, each level offers only
// the children of the level above, and a proposal chip that fills level 3 sets levels 1 and 2.
(function () {
  "use strict";
  var box = document.querySelector("[data-cascade]");
  if (!box) return;
  var sel = [1, 2, 3].map(function (l) { return box.querySelector('[data-level="' + l + '"]'); });
  // Every option (with its optgroup label for level 3) remembered once, then re-listed.
  var all = sel.map(function (s) {
    return Array.prototype.map.call(s.querySelectorAll("option"), function (o) {
      var g = o.parentNode.tagName === "OPTGROUP" ? o.parentNode.label : "";
      return { value: o.value, text: o.textContent, parent: o.getAttribute("data-parent") || "", group: g };
    });
  });
  function ancestor(code, level) {
    var found = "";
    all[level - 1].forEach(function (o) { if (o.value && code.indexOf(o.value) === 0) found = o.value; });
    return found;
  }
  function relist(level, parent, keep) {
    var s = sel[level - 1];
    s.textContent = "";
    all[level - 1].forEach(function (o) {
      if (o.value && parent && o.parent !== parent && o.parent.indexOf(parent) !== 0) return;
      var opt = document.createElement("option");
      opt.value = o.value; opt.textContent = o.value && level === 3 && !parent ? o.group + " › " + o.text : o.text;
      s.appendChild(opt);
    });
    s.value = keep && Array.prototype.some.call(s.options, function (x) { return x.value === keep; }) ? keep : "";
  }
  // What is sent is the deepest level chosen (a proposal may be a level-1 or 2 category).
  var sent = document.createElement("input");
  sent.type = "hidden"; sent.name = "category";
  sel[2].removeAttribute("name");
  box.appendChild(sent);
  function sync() { sent.value = sel[2].value || sel[1].value || sel[0].value; }
  function fromLeaf(code) {
    var l1 = ancestor(code, 1), l2 = ancestor(code, 2);
    sel[0].value = l1;
    relist(2, l1, l2);
    relist(3, l2 || l1, code);
    sync();
  }
  sel[0].addEventListener("change", function () { relist(2, sel[0].value, ""); relist(3, sel[0].value, ""); sync(); });
  sel[1].addEventListener("change", function () { relist(3, sel[1].value || sel[0].value, ""); sync(); });
  // A proposal chip writes the code into level 3 and fires "change".
  sel[2].addEventListener("change", function () {
    var v = sel[2].value;
    if (v && ancestor(v, 2) !== sel[1].value) fromLeaf(v);
    sync();
  });
  // Capture phase: runs before the generic data-fill handler, so the leaf is listed by then.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest('[data-fill="category"]') : null;
    if (b) fromLeaf(b.getAttribute("data-value") || "");
  }, true);
  fromLeaf(sel[2].value || "");
})();
