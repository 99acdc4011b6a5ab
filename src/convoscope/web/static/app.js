// The Conversation Overview page. One source of numbers: GET /v1/overview with the filters in
// the URL. Every element is re-rendered from that one response, so tiles and charts agree.
// window.convoscope exposes the state, the last response and the chart instances (used by the
// browser tests, handy in the console).
"use strict";
(function () {
  const I = window.convoscopeI18n;
  const COLORS = {
    engaged: "#2563eb", non_engaged: "#64748b", teammate: "#7c3aed", chatbot: "#0e7490",
    customer: "#d97706", traffic: "#2563eb", closed: "#1d4ed8",
  };
  const state = {
    period: "last_7_days", from: null, to: null, channels: [], lang: I.pickLanguage(),
    traffic: "transfer_requests", support: "engaged",
  };
  const page = { state, data: null, channels: [], charts: {}, loads: 0, lastUpdateMs: null };
  window.convoscope = page;
  const $ = (id) => document.getElementById(id);
  const t = (key, vars) => I.t(state.lang, key, vars);

  // URL <-> state ------------------------------------------------------------------------
  function readUrl() {
    const q = new URLSearchParams(location.search);
    state.from = q.get("from");
    state.to = q.get("to");
    state.period = state.from && state.to ? null : q.get("period") || "last_7_days";
    state.channels = (q.get("channels") || "").split(",").filter(Boolean);
    state.traffic = q.get("traffic") === "engaged_conversations" ? "engaged_conversations" : "transfer_requests";
    state.support = q.get("support") === "all" ? "all" : "engaged";
    if (q.get("lang") === "en" || q.get("lang") === "fr") state.lang = q.get("lang");
  }

  function overviewParams() {
    const q = new URLSearchParams();
    if (state.period) q.set("period", state.period);
    else { q.set("from", state.from); q.set("to", state.to); }
    if (state.channels.length) q.set("channels", state.channels.join(","));
    return q;
  }

  function pageUrl() {
    const q = overviewParams();
    if (state.traffic !== "transfer_requests") q.set("traffic", state.traffic);
    if (state.support !== "engaged") q.set("support", state.support);
    q.set("lang", state.lang);
    return `${location.pathname}?${q}`;
  }

  // Change state and record it in history; `reload` when the numbers change.
  function go(changes, reload = true) {
    Object.assign(state, changes);
    history.pushState(null, "", pageUrl());
    renderFilters(); // immediate feedback on the control; numbers follow when loaded
    if (reload) load(); else render();
  }

  // Data ---------------------------------------------------------------------------------
  async function getJson(path, params) {
    const response = await fetch(params ? `${path}?${params}` : path, { credentials: "same-origin" });
    if (response.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      throw new Error("401");
    }
    if (!response.ok) {
      let detail = `HTTP ${response.status}`;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      const error = new Error(detail);
      error.status = response.status;
      throw error;
    }
    return response.json();
  }

  async function load() {
    const mine = ++page.loads;
    const started = performance.now();
    setStatus("loading");
    try {
      const [data, channels] = await Promise.all([
        getJson("/v1/overview", overviewParams()),
        page.channels.length ? page.channels : getJson("/v1/channels"),
      ]);
      if (mine !== page.loads) return; // a newer request superseded this one
      page.data = data;
      page.channels = channels;
      render();
      setStatus(isEmpty(data) ? "empty" : "ready");
      page.lastUpdateMs = performance.now() - started;
    } catch (error) {
      if (mine !== page.loads) return;
      showError(error);
    }
  }

  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const isEmpty = (d) => d.tiles.total_conversations === 0 && sum(d.messages.customer) === 0
    && sum(d.messages.chatbot) === 0 && sum(d.messages.teammate) === 0
    && d.closed_by_department.length === 0;

  function setStatus(status) {
    document.body.dataset.state = status;
    $("main").setAttribute("aria-busy", String(status === "loading"));
    $("error").hidden = status !== "error";
    $("empty").hidden = status !== "empty";
    $("status").textContent = status === "loading" ? t("loading") : status === "ready" ? t("updated") : "";
  }

  function showError(error) {
    setStatus("error");
    $("error-text").textContent = error.status === 403 ? t("forbidden") : t("error", { detail: error.message });
    $("retry").hidden = error.status === 403;
  }

  // Rendering ----------------------------------------------------------------------------
  function render() {
    I.translatePage(state.lang);
    renderFilters();
    if (!page.data) return;
    renderTiles(page.data);
    renderCharts(page.data);
  }

  function renderFilters() {
    document.querySelectorAll("[data-period]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.period === state.period)));
    document.querySelectorAll("[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang)));
    document.querySelectorAll("[data-support]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.support === state.support)));
    $("traffic-select").value = state.traffic;
    const period = page.data && page.data.period;
    if (period) {
      $("range-from").value = period.from;
      $("range-to").value = period.to;
      $("timezone").textContent = t("timezone", { tz: period.timezone });
      $("workspace").textContent = page.data.workspace;
    }
    const list = $("channel-list");
    const known = [...new Set([...page.channels, ...state.channels])];
    list.querySelectorAll("label").forEach((l) => l.remove());
    for (const slug of known) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = slug;
      box.checked = state.channels.includes(slug);
      box.addEventListener("change", () => {
        const picked = [...list.querySelectorAll("input:checked")].map((b) => b.value);
        go({ channels: picked });
      });
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = I.channelColor(slug);
      label.append(box, dot, I.channelName(state.lang, slug));
      list.append(label);
    }
    const picked = state.channels.length
      ? state.channels.map((c) => I.channelName(state.lang, c)).join(", ")
      : known.length ? t("channels.all") : t("channels.none");
    $("channels-summary").textContent = t("channels.summary", { list: picked });
    $("export").href = `/v1/reports/departments.csv?${overviewParams()}`;
  }

  function change(now, before, format) {
    if (now === null || before === null || before === 0) return t("tile.no_previous");
    const ratio = (now - before) / before;
    const arrow = ratio > 0 ? "▲" : ratio < 0 ? "▼" : "■";
    return `${arrow} ${t("tile.previous", { change: I.percent(state.lang, ratio), previous: format(before) })}`;
  }

  function renderTiles(d) {
    const n = (x) => I.number(state.lang, x);
    const dur = (x) => I.duration(state.lang, x);
    const tiles = [
      ["tile-duration", d.tiles.average_conversation_duration_seconds.all, d.tiles.previous.average_conversation_duration_seconds.all, dur],
      ["tile-total", d.tiles.total_conversations, d.tiles.previous.total_conversations, n],
      ["tile-engaged", d.tiles.engaged_conversations, d.tiles.previous.engaged_conversations, n],
      ["tile-customers", d.tiles.unique_customers, d.tiles.previous.unique_customers, n],
    ];
    for (const [id, now, before, format] of tiles) {
      const el = $(id);
      el.querySelector(".value").textContent = format(now);
      const c = el.querySelector(".change");
      c.textContent = change(now, before, format);
      c.dataset.trend = !before || now === null ? "none" : now > before ? "up" : now < before ? "down" : "flat";
    }
    const split = d.tiles.average_conversation_duration_seconds;
    $("tile-duration").querySelector(".split").textContent = t("tile.split", { teammate: dur(split.teammate), chatbot: dur(split.chatbot) });
  }

  function chart(id) {
    if (!page.charts[id]) page.charts[id] = echarts.init($(id), null, { renderer: "svg" });
    return page.charts[id];
  }

  const escapeHtml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));

  function table(id, head, rows) {
    const th = head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("");
    const body = rows.map((r) => `<tr>${r.map((v, i) => (i ? `<td>${escapeHtml(v)}</td>` : `<th scope="row">${escapeHtml(v)}</th>`)).join("")}</tr>`).join("");
    $(id).innerHTML = `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
  }

  function describe(id, title, parts) {
    $(id).setAttribute("aria-label", t("alt.series", { title, summary: parts.join("; ") }));
  }

  function timeSeries(id, tableId, title, labels, series, stacked) {
    const n = (x) => I.number(state.lang, x);
    chart(id).setOption({
      animation: false,
      color: series.map((s) => s.color),
      grid: { left: 48, right: 16, top: 40, bottom: 56 },
      legend: { top: 0, data: series.map((s) => s.name) },
      tooltip: { trigger: "axis", valueFormatter: (v) => n(v) },
      xAxis: { type: "category", data: labels, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { formatter: (v) => n(v) } },
      series: series.map((s) => ({ name: s.name, type: s.type || "bar", data: s.data, stack: stacked ? "total" : undefined, barMaxWidth: 36, showSymbol: false })),
    }, true);
    table(tableId, [t("bucket"), ...series.map((s) => s.name)], labels.map((l, i) => [l, ...series.map((s) => n(s.data[i]))]));
    describe(id, title, series.map((s) => `${s.name} ${n(sum(s.data))}`));
  }

  function renderCharts(d) {
    const tz = d.period.timezone;
    const labels = d.buckets.map((b) => I.bucketLabel(state.lang, b, d.granularity, tz));
    timeSeries("chart-engagement", "table-engagement", t("chart.engagement"), labels, [
      { name: t("series.engaged"), data: d.engagement.engaged, color: COLORS.engaged },
      { name: t("series.non_engaged"), data: d.engagement.non_engaged, color: COLORS.non_engaged },
    ], true);
    timeSeries("chart-messages", "table-messages", t("chart.messages"), labels, [
      { name: t("series.teammate"), data: d.messages.teammate, color: COLORS.teammate, type: "line" },
      { name: t("series.chatbot"), data: d.messages.chatbot, color: COLORS.chatbot, type: "line" },
      { name: t("series.customer"), data: d.messages.customer, color: COLORS.customer, type: "line" },
    ], false);
    timeSeries("chart-traffic", "table-traffic", t(`traffic.${state.traffic}`), labels, [
      { name: t(`traffic.${state.traffic}`), data: d.traffic[state.traffic], color: COLORS.traffic },
    ], false);
    renderDepartments(d);
    renderSupport(d);
  }

  function renderDepartments(d) {
    const n = (x) => I.number(state.lang, x);
    const rows = d.closed_by_department;
    const names = rows.map((r) => r.department ?? t("no_department"));
    chart("chart-departments").setOption({
      animation: false,
      color: [COLORS.closed],
      grid: { left: 8, right: 32, top: 8, bottom: 24, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => n(v) },
      xAxis: { type: "value", minInterval: 1, axisLabel: { formatter: (v) => n(v) } },
      yAxis: { type: "category", data: names.slice().reverse() },
      series: [{ name: t("series.closed"), type: "bar", data: rows.map((r) => r.conversations).reverse(), barMaxWidth: 28, label: { show: true, position: "right", formatter: (p) => n(p.value) } }],
    }, true);
    table("table-departments", [t("department"), t("conversations")], rows.map((r, i) => [names[i], n(r.conversations)]));
    describe("chart-departments", t("chart.departments"), rows.map((r, i) => `${names[i]} ${n(r.conversations)}`));
  }

  function renderSupport(d) {
    const n = (x) => I.number(state.lang, x);
    const split = d.support_type[state.support];
    const data = [
      { name: t("series.teammate"), value: split.teammate, itemStyle: { color: COLORS.teammate } },
      { name: t("series.chatbot"), value: split.chatbot, itemStyle: { color: COLORS.chatbot } },
    ];
    chart("chart-support").setOption({
      animation: false,
      tooltip: { trigger: "item", valueFormatter: (v) => n(v) },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["45%", "72%"], data, label: { formatter: (p) => `${p.name}: ${n(p.value)}` } }],
    }, true);
    table("table-support", [t("support_type"), t("conversations")], data.map((x) => [x.name, n(x.value)]));
    describe("chart-support", t("chart.support"), data.map((x) => `${x.name} ${n(x.value)}`));
  }

  // Events -------------------------------------------------------------------------------
  document.querySelectorAll("[data-period]").forEach((b) => b.addEventListener("click", () => go({ period: b.dataset.period, from: null, to: null })));
  document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => {
    localStorage.setItem("convoscope.lang", b.dataset.lang);
    go({ lang: b.dataset.lang }, false);
  }));
  document.querySelectorAll("[data-support]").forEach((b) => b.addEventListener("click", () => go({ support: b.dataset.support }, false)));
  $("traffic-select").addEventListener("change", (e) => go({ traffic: e.target.value }, false));
  $("range-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const from = $("range-from").value, to = $("range-to").value;
    if (from && to && from <= to) go({ period: null, from, to });
  });
  $("retry").addEventListener("click", () => load());
  $("logout").addEventListener("click", async () => {
    const csrf = (document.cookie.match(/(?:^|; )cs_csrf=([^;]+)/) || [])[1] || "";
    await fetch("/logout", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
    location.assign("/login");
  });
  window.addEventListener("popstate", () => { readUrl(); load(); });
  window.addEventListener("resize", () => Object.values(page.charts).forEach((c) => c.resize()));

  readUrl();
  history.replaceState(null, "", pageUrl());
  render();
  load();
})();
