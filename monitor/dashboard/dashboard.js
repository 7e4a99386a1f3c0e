// Shen monitoring dashboard: polls /monitor/api/models and draws every
// model's snapshot. Plain DOM, no library, no outside resource. Every
// number is written into data-value as the raw figure (tests compare it
// with /metrics) and shown formatted.
"use strict";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en");
  const s = Number(v).toPrecision(digits || 3);
  return s.includes(".") && !s.includes("e") ? s.replace(/\.?0+$/, "") : s;
}

function tile(model, metric, label, value, text) {
  return el("div", {class: "tile"},
    el("div", {class: "label"}, label),
    el("div", {class: "value", "data-model": model, "data-metric": metric, "data-value": String(value)}, text));
}

const SVG = "http://www.w3.org/2000/svg";

// bars draws reference (grey) and current (blue, red when drifted) shares.
function bars(f) {
  const n = (f.shares || []).length, w = 180, h = 36;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("class", "bars");
  if (!n) return svg;
  const peak = Math.max(1e-9, ...f.shares, ...f.ref_shares);
  const slot = w / n, bw = slot * 0.42;
  for (let i = 0; i < n; i++) {
    [[f.ref_shares[i], "#9aa5b1"], [f.shares[i], f.drifted ? "#d9534f" : "#3b82c4"]].forEach(([v, color], j) => {
      const r = document.createElementNS(SVG, "rect"), bh = (h - 2) * v / peak;
      r.setAttribute("x", (i * slot + j * bw).toFixed(1)); r.setAttribute("y", (h - bh).toFixed(1));
      r.setAttribute("width", bw.toFixed(1)); r.setAttribute("height", bh.toFixed(1)); r.setAttribute("fill", color);
      svg.append(r);
    });
  }
  return svg;
}

function featureTable(s) {
  const t = el("table", {},
    el("tr", {}, ...["feature", "method", "statistic", "p-value", "PSI", "missing", "drift", "reference vs current"].map(h => el("th", {}, h))));
  const rows = (s.features || []).concat(s.prediction ? [s.prediction] : []);
  for (const f of rows) {
    const drift = f.drifted || f.missing_drifted || f.unseen_drifted;
    const test = f.method === "ks" || f.method === "chisquare";
    t.append(el("tr", {"data-feature": f.feature},
      el("td", {}, f.feature),
      el("td", {}, f.method || "–"),
      el("td", {"data-model": s.model, "data-metric": "feature_drift_statistic", "data-feature": f.feature, "data-value": String(f.statistic)}, fmt(f.statistic, 4)),
      el("td", {}, test ? fmt(f.p_value, 3) : "–"),
      el("td", {}, fmt(f.psi, 3)),
      el("td", {}, fmt(100 * f.missing_rate, 3) + "%"),
      el("td", {class: drift ? "bad" : "good", "data-model": s.model, "data-metric": "feature_drifted", "data-feature": f.feature, "data-value": drift ? "1" : "0"},
        f.drifted ? "drift" : f.missing_drifted ? "missing" : f.unseen_drifted ? "unseen" : "no"),
      el("td", {}, bars(f))));
  }
  return t;
}

function alertTable(s) {
  const t = el("table", {}, el("tr", {}, ...["alert", "metric", "state", "value", "fired"].map(h => el("th", {}, h))));
  for (const a of s.alerts || []) {
    const cls = a.state === "firing" ? "bad" : a.state === "pending" ? "pending" : "good";
    t.append(el("tr", {},
      el("td", {}, a.name), el("td", {}, a.metric),
      el("td", {class: cls, "data-model": s.model, "data-metric": "alert_firing", "data-alert": a.name, "data-value": a.state === "firing" ? "1" : "0"}, a.state),
      el("td", {}, a.value === null ? "–" : fmt(a.value, 3)),
      el("td", {}, a.fired)));
  }
  return t;
}

function modelCard(s) {
  const m = s.model, q = s.quality || {}, qm = q.metrics || {}, qr = q.reference || {};
  const tiles = el("div", {class: "tiles"},
    tile(m, "requests_total", "requests", s.requests, fmt(s.requests)),
    tile(m, "rows_total", "rows", s.rows, fmt(s.rows)),
    tile(m, "throughput", "requests/s", s.throughput, fmt(s.throughput)),
    tile(m, "latency_p50", "latency p50", s.latency.p50, fmt(1000 * s.latency.p50) + " ms"),
    tile(m, "latency_p90", "latency p90", s.latency.p90, fmt(1000 * s.latency.p90) + " ms"),
    tile(m, "latency_p99", "latency p99", s.latency.p99, fmt(1000 * s.latency.p99) + " ms"),
    tile(m, "error_ratio", "error rate", s.error_rate, fmt(100 * s.error_rate) + "%"),
    tile(m, "dataset_drift_share", "features drifted", s.dataset.share, fmt(100 * s.dataset.share) + "%"),
    tile(m, "window_rows", "window rows", s.window_rows, fmt(s.window_rows)));
  for (const k of Object.keys(qm).sort()) {
    const ref = qr[k] !== undefined ? " (val " + fmt(qr[k]) + ")" : "";
    tiles.append(tile(m, "quality_" + k, "online " + k, qm[k], fmt(qm[k]) + ref));
  }
  return el("section", {class: "model", "data-model": m},
    el("h2", {}, m + " ", el("small", {}, "version " + s.version)),
    tiles,
    el("h3", {}, s.dataset.dataset_drift ? "Drift: DATASET DRIFT" : "Drift against the training profile"),
    s.verdict ? featureTable(s) : el("p", {class: "empty"}, "Waiting for enough rows in the window."),
    el("h3", {}, "Alerts"), alertTable(s));
}

async function refresh() {
  try {
    const r = await fetch("/monitor/api/models", {cache: "no-store"});
    const body = await r.json();
    const main = document.getElementById("models");
    main.replaceChildren(...(body.models.length ? body.models.map(modelCard) : [el("p", {class: "empty"}, "No model is monitored yet.")]));
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.setAttribute("data-loaded", "1");
  } catch (e) {
    document.getElementById("updated").textContent = "update failed: " + e;
  }
}

refresh();
setInterval(refresh, 2000);
