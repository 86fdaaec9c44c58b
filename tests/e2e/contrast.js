// WCAG 2.x contrast of every visible piece of text on the page against what is behind it.
// Returns {checked: pieces of text measured, failures: [{text, selector, ratio, needed, fg, bg}]}.
// Evaluated by Playwright.
// Text is normal unless >= 24px, or >= 18.66px and bold (WCAG "large text": 3:1, else 4.5:1).
// Disabled controls are exempt (WCAG 1.4.3). Text drawn inside a <canvas> (the ECharts map
// and trend) is not in the DOM and is not checked here.
() => {
  function parse(color) {
    const m = /^rgba?\(([^)]+)\)$/.exec(color.trim());
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  }
  function over(top, bottom) { // top composited over an opaque bottom
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  }
  function luminance(c) {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function ratio(a, b) {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  }
  function background(el) { // the opaque colour behind el, or null behind an image
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== "none") return null;
      const c = parse(s.backgroundColor);
      if (c && c[3] > 0) layers.push(c);
      if (c && c[3] === 1) break;
    }
    let bg = [255, 255, 255, 1]; // the canvas
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  }
  function opacity(el) {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  }
  function visible(el) {
    const s = getComputedStyle(el);
    if (s.visibility !== "visible" || s.display === "none") return false;
    const r = el.getBoundingClientRect();
    // Off-screen (the skip link until focused) or clipped to a pixel (visually-hidden).
    return r.width > 1 && r.height > 1 && r.right > 0 && r.bottom > 0;
  }
  function ownText(el) {
    if (el.matches("input, textarea")) {
      const type = (el.getAttribute("type") || "text").toLowerCase();
      if (["hidden", "checkbox", "radio", "range", "file", "color"].includes(type)) return "";
      return el.value || "";
    }
    if (el.matches("select")) return el.selectedOptions.length ? el.selectedOptions[0].text : "";
    let t = "";
    for (const n of el.childNodes) if (n.nodeType === Node.TEXT_NODE) t += n.textContent;
    return t.trim();
  }
  function describe(el) {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList.length) s += "." + [...el.classList].join(".");
    const p = el.parentElement;
    return p ? (p.id ? p.tagName.toLowerCase() + "#" + p.id + " > " : "") + s : s;
  }
  const failures = [];
  let checked = 0;
  function check(el, text, style) {
    const fg = parse(style.color);
    const bg = background(el);
    if (!fg || !bg) return;
    checked += 1;
    fg[3] *= opacity(el);
    const size = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (size >= 18.66 && bold);
    const needed = large ? 3 : 4.5;
    const r = ratio(over(fg, bg), bg);
    if (r < needed - 0.005) {
      failures.push({
        text: text.slice(0, 40), selector: describe(el), ratio: Math.round(r * 100) / 100,
        needed, fg: style.color, bg: "rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + ")",
      });
    }
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("script, style, template, noscript, canvas, svg, option, optgroup")) continue;
    if (!visible(el) || el.matches(":disabled")) continue;
    const text = ownText(el);
    if (text) check(el, text, getComputedStyle(el));
    if (el.matches("input, textarea") && !el.value && el.placeholder) {
      check(el, el.placeholder, getComputedStyle(el, "::placeholder"));
    }
  }
  return { checked, failures };
}
