// The Sales Attribution page. One source of numbers: GET /v1/sales with the filters in the
// URL. The response carries every currency of the period, so the currency switch redraws
// without asking again; money arrives as exact decimal strings and is only formatted here.
import { getJson } from "./api.js";
import { COLORS, charts, describe, donut, sortableTable, sortedBy, table, timeSeries } from "./charts.js";
import * as I from "./i18n.js";
import strings from "./sales.strings.js";
import { startPage } from "./shell.js";
import { setTile } from "./widgets.js";

const $ = (id) => document.getElementById(id);
const CREDIT = [["with_teammate", COLORS.teammate], ["chatbot_only", COLORS.chatbot]];
const TYPES = [["direct", COLORS.engaged], ["indirect", COLORS.non_engaged]];
// Teammates table columns: key, how to read the sort value of a row.
const COLUMNS = [
  ["teammate", (r) => (r.teammate_id === null ? null : page.teammateName(r.teammate_id))],
  ["orders", (r) => r.orders],
  ["sales", (r) => Number(r.sales)],
  ["aov", (r) => (r.average_order_value === null ? null : Number(r.average_order_value))],
];
const SORTS = COLUMNS.flatMap(([key]) => [key, `-${key}`]);

const page = startPage({
  strings,
  title: "sales.title",
  extras: { sort: ["-sales", ...SORTS.filter((s) => s !== "-sales")] },
  load: (params) => getJson("/v1/sales", params),
  isEmpty: (d) => Object.keys(d.currencies).length === 0 && d.orders.orphan_refunds === 0,
  render,
});
page.charts = charts;
page.currency = null; // the currency picked with the switch (null: the response's default)
const { state, t } = page;
const n = (x) => I.number(state.lang, x);
const dur = (x) => I.duration(state.lang, x);

// Money for reading (the figures themselves stay exact strings in the data and the CSV).
function money(value, currency) {
  if (value === null) return "—";
  return new Intl.NumberFormat(state.lang === "fr" ? "fr-CA" : "en-CA", { style: "currency", currency }).format(Number(value));
}

function shown(d) {
  return d.currencies[page.currency] ? page.currency : d.currency;
}

function render(d) {
  const cur = shown(d);
  $("export").href = `/v1/reports/sales-teammates.csv?${page.params()}`;
  $("export-sales").href = `/v1/reports/sales.csv?${page.params()}`;
  renderCurrencies(d, cur);
  if (!cur) return;
  renderTiles(d, cur);
  renderSeries(d, cur);
  renderSplits(d, cur);
  renderTeammates(d, cur);
}

function renderCurrencies(d, cur) {
  const codes = Object.keys(d.currencies);
  const group = $("currencies");
  group.hidden = codes.length < 2;
  group.replaceChildren(...codes.map((code) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = code;
    b.setAttribute("aria-pressed", String(code === cur));
    b.addEventListener("click", () => { page.currency = code; render(page.data); });
    return b;
  }));
}

function renderTiles(d, cur) {
  const now = d.currencies[cur], before = now.previous;
  const m = (x) => money(x, cur);
  const num = (x) => (x === null ? null : Number(x));
  setTile(page, "tile-sales", {
    now: num(now.attributed_sales), before: num(before.attributed_sales), format: m,
    split: t("tile.of_all", { all: m(now.all_sales) }),
  });
  setTile(page, "tile-orders", { now: now.attributed_orders, before: before.attributed_orders, format: n });
  setTile(page, "tile-aov", { now: num(now.average_order_value), before: num(before.average_order_value), format: m });
  const pct = (x) => (x === null ? "—" : I.share(state.lang, x));
  setTile(page, "tile-share", { now: now.share_influenced, before: before.share_influenced, format: pct, points: 100 });
  const times = d.time_to_purchase_seconds;
  setTile(page, "tile-time", {
    now: times.median, before: null, format: dur,
    split: t("tile.time_spread", { mean: dur(times.mean), p90: dur(times.p90) }),
  });
}

function renderSeries(d, cur) {
  const labels = d.buckets.map((b) => I.bucketLabel(state.lang, b, d.granularity, d.period.timezone));
  const data = d.series[cur] || { with_teammate: [], chatbot_only: [] };
  const series = CREDIT.map(([key, color]) => ({ name: t(`credit.${key}`), data: data[key].map(Number), color }));
  document.querySelectorAll(".live-note").forEach((el) => { el.hidden = d.in_progress_bucket === null; });
  const shownLabels = timeSeries("chart-sales", {
    labels, series, stacked: true, live: d.in_progress_bucket, liveText: t("in_progress"), format: (v) => money(v, cur),
  });
  table("table-sales", [t("bucket"), ...series.map((s) => s.name)],
    shownLabels.map((l, i) => [l, ...CREDIT.map(([key]) => money(data[key][i], cur))]));
  const now = d.currencies[cur];
  describe("chart-sales", t("alt.series", { title: t("chart.sales"), summary: CREDIT.map(([key]) => `${t(`credit.${key}`)} ${money(now[key].sales, cur)}`).join("; ") }));
}

function renderSplits(d, cur) {
  const now = d.currencies[cur];
  for (const [id, parts, extra] of [["credit", CREDIT, "chatbot_assisted"], ["type", TYPES, null]]) {
    const named = parts.map(([key, color]) => ({ key, name: t(`credit.${key}`), value: Number(now[key].sales), color }));
    donut(`chart-${id}`, { parts: named, format: (v) => money(v, cur), share: (x) => I.share(state.lang, x), emptyText: t("no_sales") });
    const keys = extra ? [...parts.map(([k]) => k), extra] : parts.map(([k]) => k);
    table(`table-${id}`, ["", t("col.sales"), t("col.orders")], keys.map((k) => [t(`credit.${k}`), money(now[k].sales, cur), n(now[k].orders)]));
    describe(`chart-${id}`, t("alt.series", { title: t(id === "credit" ? "chart.credit" : "chart.sale_type"), summary: named.map((p) => `${p.name} ${money(p.value, cur)}`).join("; ") }));
  }
}

function renderTeammates(d, cur) {
  const descending = state.sort.startsWith("-");
  const key = state.sort.replace(/^-/, "");
  const [, value] = COLUMNS.find(([k]) => k === key);
  const rows = sortedBy(d.by_teammate.filter((r) => r.currency === cur), value, descending, state.lang);
  const show = {
    teammate: (r) => page.teammateName(r.teammate_id),
    orders: (r) => n(r.orders),
    sales: (r) => money(r.sales, cur),
    aov: (r) => money(r.average_order_value, cur),
  };
  sortableTable("table-teammates", {
    columns: COLUMNS.map(([k]) => ({ key: k, label: t(`col.${k}`), sortLabel: t("sort.by", { column: t(`col.${k}`) }) })),
    rows: rows.map((r) => COLUMNS.map(([k]) => show[k](r))),
    sortKey: key,
    descending,
    emptyText: t("no_teammates"),
    onSort: (k) => page.go({ sort: k === key && !descending ? `-${k}` : k }, false),
  });
  const o = d.orders;
  $("orders-note").textContent = t("orders.note", {
    attributed: n(o.attributed), not_attributed: n(o.not_attributed), unmatched: n(o.unmatched), orphans: n(o.orphan_refunds),
  });
}
