// report_check.js - evaluated in the loaded report page by browser.py; its
// value is a JSON-able summary of what a reader, a screen reader and a
// printer get.  The test script asserts on it (jcheck).
(() => {
  const text = (el) => (el ? el.textContent.trim() : "");

  // Marks per chart, and whether each chart names itself accessibly.
  const charts = {};
  for (const svg of document.querySelectorAll("svg.chart")) {
    const ids = (svg.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
    const named = ids.map((id) => document.getElementById(id));
    charts[svg.id] = {
      marks: svg.querySelectorAll(".mark").length,
      values: [...svg.querySelectorAll(".mark[data-value]")].map((m) => Number(m.dataset.value)),
      role: svg.getAttribute("role"),
      labelled: ids.length === 2 && named.every((el) => el && svg.contains(el) && text(el)),
      title: text(svg.querySelector(":scope > title")),
      desc: text(svg.querySelector(":scope > desc")),
      // the table beside it: the text alternative
      table: !!(svg.closest("section") && svg.closest("section").querySelector("table caption")),
      rendered: svg.getBoundingClientRect().width > 100,
    };
  }

  const headings = [...document.querySelectorAll("h1,h2,h3,h4,h5,h6")].map((h) => [
    Number(h.tagName[1]), text(h)]);
  // No level skipped on the way down.
  let skips = 0;
  headings.reduce((prev, [level]) => { if (level > prev + 1) skips++; return level; }, 0);

  // Tables: a caption and header cells with a scope.
  const tables = [...document.querySelectorAll("table")].map((t) => ({
    caption: text(t.querySelector("caption")),
    scoped: [...t.querySelectorAll("th")].every((th) => th.getAttribute("scope")),
  }));

  // Contrast of every piece of text against the background behind it.
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const lowContrast = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || el.closest("title,desc,style")) continue;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.visibility === "hidden") continue;
    const fg = rgb(el instanceof SVGElement ? cs.fill : cs.color);
    const l1 = lum(fg), l2 = lum(background(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < 4.5) lowContrast.push([n.textContent.trim().slice(0, 40), ratio.toFixed(2)]);
  }

  return {
    hiddenHeadings: [...document.querySelectorAll("h1,h2,h3")]
      .filter((h) => !h.getClientRects().length).map(text),
    lang: document.documentElement.lang,
    title: document.title,
    charts,
    headings,
    h1: headings.filter(([l]) => l === 1).length,
    skips,
    tables,
    lowContrast,
    landmarks: ["header", "nav", "main", "footer"].filter((t) => document.querySelector(t)),
    externalRefs: [...document.querySelectorAll("[src],[href]")]
      .map((e) => e.getAttribute("src") || e.getAttribute("href"))
      .filter((u) => !u.startsWith("#")),
    scripts: document.scripts.length,
    body: document.body.innerText,
  };
})()
