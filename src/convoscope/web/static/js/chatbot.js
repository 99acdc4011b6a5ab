// The Chatbot Performance page. One source of numbers: GET /v1/chatbot with the filters in the
// URL (channels, departments, flow types and flows: the teammates filter does not apply here).
// Every element is re-rendered from that one response, so the tiles, the outcome chart, the
// flow charts and the dialog performance table agree.
import { getJson } from "./api.js";
import { COLORS, charts, describe, donut, horizontalBars, sortableTable, sortedBy, stackedWithRate, sum, table } from "./charts.js";
import * as I from "./i18n.js";
import { startPage } from "./shell.js";
import strings from "./chatbot.strings.js";
import { csatParts, setTile } from "./widgets.js";

const $ = (id) => document.getElementById(id);
const OUTCOMES = ["automated", "abandoned_in_flow", "transferred", "not_engaged", "in_progress"];
const FIRST_TYPES = [...I.FLOW_TYPES, "none"];
// Dialog performance columns: key, the sort value of a row.
const COLUMNS = [
  ["flow", (r) => r.flow],
  ["type", (r) => r.type],
  ["entered", (r) => r.entered],
  ["completion", (r) => r.completion_rate],
  ["automated_last", (r) => r.automated_last],
  ["transferred_after", (r) => r.transferred_after],
  ["drop_off", (r) => r.drop_off_rate],
  ["fallbacks", (r) => r.fallbacks],
  ["median", (r) => r.median_seconds_in_flow],
];
// The table's orders, most entered first by default (as the API lists the flows).
const SORTS = ["-entered", ...COLUMNS.flatMap(([key]) => [`-${key}`, key]).filter((k) => k !== "-entered")];

const page = startPage({
  strings,
  title: "chatbot.title",
  filters: ["channels", "departments", "flow_types", "flows"],
  extras: { csat: ["5", "3", "2"], sort: SORTS }, // the first of each is the default
  load: (params) => getJson("/v1/chatbot", params),
  isEmpty: (d) => d.tiles.bot_conversations === 0 && d.tiles.csat.count === 0,
  render,
});
page.charts = charts;
const { state, t } = page;
const n = (x) => I.number(state.lang, x);
const dur = (x) => I.duration(state.lang, x);
const share = (x) => (x === null ? "—" : I.share(state.lang, x));
const score = (x) => (x === null ? "—" : I.decimal(state.lang, x));
const typeName = (type) => t(type === "none" ? "no_flow" : `flow_type.${type}`);

function render(d) {
  document.querySelectorAll("[data-csat]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.csat === state.csat)));
  $("export").href = `/v1/reports/flows.csv?${page.params()}`;
  // A chatbot that names no flow (Chatwoot, WhatsApp): automation is containment, no table.
  const flowless = d.tiles.handled > 0 && d.first_flow_type.none === d.tiles.handled;
  $("no-flows").hidden = !flowless;
  renderTiles(d);
  renderOutcomes(d);
  renderFlows(d);
  renderDialog(d, flowless);
  renderCsat(d);
}

function renderTiles(d) {
  const now = d.tiles, before = d.tiles.previous;
  const counts = (a, b) => t("tile.of_handled", { count: n(a), handled: n(b) });
  setTile(page, "tile-bot", {
    now: now.bot_conversations, before: before.bot_conversations, format: n,
    split: t("tile.bot_split", { not_engaged: n(now.not_engaged), in_progress: n(now.in_progress) }),
  });
  setTile(page, "tile-handled", { now: now.handled, before: before.handled, format: n, split: t("tile.handled_split") });
  setTile(page, "tile-automation", { now: now.automation_rate, before: before.automation_rate, format: share, points: 100, split: counts(now.automated, now.handled) });
  setTile(page, "tile-transfer", {
    now: now.transfer_rate, before: before.transfer_rate, format: share, points: 100, better: "lower",
    split: t("tile.transfer_split", { requested: n(now.transferred_requested), joined: n(now.transferred_teammate_joined) }),
  });
  setTile(page, "tile-abandoned", { now: now.abandoned_rate, before: before.abandoned_rate, format: share, points: 100, better: "lower", split: counts(now.abandoned_in_flow, now.handled) });
  setTile(page, "tile-containment", { now: now.containment, before: before.containment, format: share, points: 100 });
  setTile(page, "tile-fallback", {
    now: now.fallback_rate, before: before.fallback_rate, format: share, points: 100, better: "lower",
    split: t("tile.fallback_split", { fallbacks: n(now.fallback_messages), messages: n(now.chatbot_messages) }),
  });
  const time = now.time_with_chatbot_seconds;
  setTile(page, "tile-time", {
    now: time.mean, before: before.time_with_chatbot_seconds.mean, format: dur, better: "lower",
    split: t("tile.spread", { median: dur(time.median), p90: dur(time.p90) }),
  });
  const out5 = (x) => (x === null ? "—" : t("tile.out_of_5", { score: score(x) }));
  setTile(page, "tile-csat", { now: now.csat.mean, before: before.csat.mean, format: out5, points: 1, split: t("tile.surveys", { count: n(now.csat.count) }) });
}

function renderOutcomes(d) {
  const labels = d.buckets.map((b) => I.bucketLabel(state.lang, b, d.granularity, d.period.timezone));
  document.querySelectorAll(".live-note").forEach((el) => { el.hidden = d.in_progress_bucket === null; });
  const series = OUTCOMES.map((o) => ({ name: t(`outcome.${o}`), data: d.outcomes[o], color: COLORS[o] }));
  const rate = { name: t("series.automation_rate"), data: d.automation_rate, color: COLORS.rate };
  const shown = stackedWithRate("chart-outcomes", {
    labels, series, rate, live: d.in_progress_bucket, liveText: t("in_progress"), format: n, formatRate: share,
  });
  table("table-outcomes", [t("bucket"), ...series.map((s) => s.name), rate.name],
    shown.map((l, i) => [l, ...series.map((s) => n(s.data[i])), share(rate.data[i])]));
  describe("chart-outcomes", t("alt.series", {
    title: t("chart.outcomes"),
    summary: [...series.map((s) => `${s.name} ${n(sum(s.data))}`), `${t("tile.automation")} ${share(d.tiles.automation_rate)}`].join("; "),
  }));
}

function renderFlows(d) {
  const first = FIRST_TYPES.map((type) => ({ name: typeName(type), value: d.first_flow_type[type], color: COLORS.flow_types[type] }));
  donut("chart-first-flow", { parts: first, format: n, share, emptyText: t("chart.no_handled") });
  table("table-first-flow", [t("col.type"), t("conversations")], first.map((p) => [p.name, n(p.value)]));
  describe("chart-first-flow", t("alt.series", { title: t("chart.first_flow"), summary: first.map((p) => `${p.name} ${n(p.value)}`).join("; ") }));

  const last = d.transfers_by_last_flow;
  const rows = [...last.top.map((r) => [r.flow, r.conversations]),
    ...(last.other_flows ? [[t("other_flows"), last.other_flows]] : []),
    ...(last.no_flow ? [[t("no_flow"), last.no_flow]] : [])];
  horizontalBars("chart-last-flow", {
    names: rows.map((r) => r[0]), values: rows.map((r) => r[1]), color: COLORS.transferred,
    name: t("outcome.transferred"), format: n, emptyText: t("chart.no_transfers"),
  });
  table("table-last-flow", [t("col.flow"), t("conversations")], rows.map(([name, value]) => [name, n(value)]));
  describe("chart-last-flow", t("alt.series", { title: t("chart.last_flow"), summary: rows.map(([a, b]) => `${a} ${n(b)}`).join("; ") || t("chart.no_transfers") }));
}

function stepName(step) {
  return step === null ? t("no_step") : step;
}

function renderDialog(d, flowless) {
  const descending = state.sort.startsWith("-");
  const key = state.sort.replace(/^-/, "");
  const [, value] = COLUMNS.find(([k]) => k === key);
  const rows = sortedBy(d.dialog_performance, value, descending, state.lang, (a, b) => a.flow.localeCompare(b.flow, state.lang));
  const show = {
    flow: (r) => r.flow,
    type: (r) => typeName(r.type),
    entered: (r) => n(r.entered),
    completion: (r) => `${n(r.completed)} (${share(r.completion_rate)})`,
    automated_last: (r) => n(r.automated_last),
    transferred_after: (r) => n(r.transferred_after),
    drop_off: (r) => `${n(r.abandoned)} (${share(r.drop_off_rate)})`,
    fallbacks: (r) => n(r.fallbacks),
    median: (r) => dur(r.median_seconds_in_flow),
  };
  sortableTable("table-dialog", {
    columns: COLUMNS.map(([k]) => ({ key: k, label: t(`col.${k}`), sortLabel: t("sort.by", { column: t(`col.${k}`) }) })),
    rows: rows.map((r) => COLUMNS.map(([k]) => show[k](r))),
    sortKey: key,
    descending,
    emptyText: flowless ? t("no_flows") : t("chart.no_flows"),
    onSort: (k) => page.go({ sort: k === key && descending ? k : `-${k}` }, false),
  });
  const steps = rows.flatMap((r) => r.drop_off_steps.map((s) => [r.flow, stepName(s.step), n(s.conversations)]));
  table("table-drop-off", [t("col.flow"), t("col.step"), t("conversations")], steps);
  if (!steps.length) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = t("chart.no_drop_off");
    $("table-drop-off").replaceChildren(p);
  }
}

function renderCsat(d) {
  const parts = csatParts(t, d.csat_breakdown, state.csat);
  donut("chart-csat", { parts, format: n, share, emptyText: t("chart.no_surveys") });
  table("table-csat", [t("score"), t("surveys")], parts.map((p) => [p.name, n(p.value)]));
  describe("chart-csat", t("alt.series", { title: t("chart.bot_csat"), summary: parts.map((p) => `${p.name} ${n(p.value)}`).join("; ") }));
}

document.querySelectorAll("[data-csat]").forEach((b) => b.addEventListener("click", () => page.go({ csat: b.dataset.csat }, false)));
