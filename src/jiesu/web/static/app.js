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
