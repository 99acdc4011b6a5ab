// The Conversation Overview page. One source of numbers: GET /v1/overview with the filters in
// the URL. Every element is re-rendered from that one response, so tiles and charts agree.
// window.convoscope exposes the state, the last response and the chart instances (used by the
// browser tests, handy in the console).
import { getJson } from "./api.js";
import { COLORS, charts, describe, donut, horizontalBars, sum, table, timeSeries } from "./charts.js";
import * as I from "./i18n.js";
import { startPage } from "./shell.js";
import strings from "./overview.strings.js";

const $ = (id) => document.getElementById(id);

const page = startPage({
  strings,
  title: "title",
  extras: { traffic: ["transfer_requests", "engaged_conversations"], support: ["engaged", "all"] },
  load: (params) => getJson("/v1/overview", params),
  isEmpty: (d) => d.tiles.total_conversations === 0 && sum(d.messages.customer) === 0
    && sum(d.messages.chatbot) === 0 && sum(d.messages.teammate) === 0
    && d.closed_by_department.length === 0,
  render,
});
page.charts = charts;
const { state, t } = page;
const n = (x) => I.number(state.lang, x);
const dur = (x) => I.duration(state.lang, x);

function render(d) {
  document.querySelectorAll("[data-support]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.support === state.support)));
  $("traffic-select").value = state.traffic;
  $("export").href = `/v1/reports/departments.csv?${page.params()}`;
  renderTiles(d);
  renderCharts(d);
}

function change(now, before, format) {
  if (now === null || before === null || before === 0) return t("tile.no_previous");
  const ratio = (now - before) / before;
  const arrow = ratio > 0 ? "▲" : ratio < 0 ? "▼" : "■";
  return `${arrow} ${t("tile.previous", { change: I.percent(state.lang, ratio), previous: format(before) })}`;
}

function renderTiles(d) {
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
  const key = botless(d) ? "tile.split_unanswered" : "tile.split";
  $("tile-duration").querySelector(".split").textContent = t(key, { teammate: dur(split.teammate), chatbot: dur(split.chatbot) });
}

// Channels where no chatbot wrote in the period (email, Twitter): their "chatbot"
// conversations are those no teammate answered, and are named so.
const botless = (d) => sum(d.messages.chatbot) === 0;

function series(id, tableId, title, labels, d, list, stacked) {
  const shown = timeSeries(id, { labels, series: list, stacked, live: d.in_progress_bucket, format: n, liveText: t("in_progress") });
  table(tableId, [t("bucket"), ...list.map((s) => s.name)], shown.map((l, i) => [l, ...list.map((s) => n(s.data[i]))]));
  describe(id, t("alt.series", { title, summary: list.map((s) => `${s.name} ${n(sum(s.data))}`).join("; ") }));
}

function renderCharts(d) {
  const labels = d.buckets.map((b) => I.bucketLabel(state.lang, b, d.granularity, d.period.timezone));
  document.querySelectorAll(".live-note").forEach((el) => { el.hidden = d.in_progress_bucket === null; });
  series("chart-engagement", "table-engagement", t("chart.engagement"), labels, d, [
    { name: t("series.engaged"), data: d.engagement.engaged, color: COLORS.engaged },
    { name: t("series.non_engaged"), data: d.engagement.non_engaged, color: COLORS.non_engaged },
  ], true);
  series("chart-messages", "table-messages", t("chart.messages"), labels, d, [
    { name: t("series.teammate"), data: d.messages.teammate, color: COLORS.teammate, type: "line" },
    { name: t("series.chatbot"), data: d.messages.chatbot, color: COLORS.chatbot, type: "line" },
    { name: t("series.customer"), data: d.messages.customer, color: COLORS.customer, type: "line" },
  ], false);
  series("chart-traffic", "table-traffic", t(`traffic.${state.traffic}`), labels, d, [
    { name: t(`traffic.${state.traffic}`), data: d.traffic[state.traffic], color: COLORS.traffic },
  ], false);
  renderDepartments(d);
  renderSupport(d);
}

function renderDepartments(d) {
  const rows = d.closed_by_department;
  const names = rows.map((r) => r.department ?? t("no_department"));
  horizontalBars("chart-departments", {
    names, values: rows.map((r) => r.conversations), color: COLORS.closed, name: t("series.closed"),
    format: n, emptyText: t("chart.no_closed"),
  });
  table("table-departments", [t("department"), t("conversations")], rows.map((r, i) => [names[i], n(r.conversations)]));
  describe("chart-departments", t("alt.series", { title: t("chart.departments"), summary: rows.map((r, i) => `${names[i]} ${n(r.conversations)}`).join("; ") || t("chart.no_closed") }));
}

function renderSupport(d) {
  const split = d.support_type[state.support];
  const parts = [
    { name: t("series.teammate"), value: split.teammate, color: COLORS.teammate },
    { name: t(botless(d) ? "series.unanswered" : "series.chatbot"), value: split.chatbot, color: COLORS.chatbot },
  ];
  donut("chart-support", { parts, format: n, share: (x) => I.share(state.lang, x), emptyText: t("chart.no_conversations") });
  table("table-support", [t("support_type"), t("conversations")], parts.map((x) => [x.name, n(x.value)]));
  describe("chart-support", t("alt.series", { title: t("chart.support"), summary: parts.map((x) => `${x.name} ${n(x.value)}`).join("; ") }));
}

document.querySelectorAll("[data-support]").forEach((b) => b.addEventListener("click", () => page.go({ support: b.dataset.support }, false)));
$("traffic-select").addEventListener("change", (e) => page.go({ traffic: e.target.value }, false));
