// The Team Performance page. One source of numbers: GET /v1/team with the filters in the URL
// (the same shell, filter bar and states as the overview). Every element is re-rendered from
// that one response, so the tiles, the chart, the breakdown and the table agree.
import { getJson } from "./api.js";
import { COLORS, charts, describe, donut, efficiency, sortableTable, sortedBy, table } from "./charts.js";
import * as I from "./i18n.js";
import { startPage } from "./shell.js";
import strings from "./team.strings.js";
import { csatParts, setTile } from "./widgets.js";

const $ = (id) => document.getElementById(id);
const DURATIONS = ["initial_response", "response", "resolution"];
// Teammates table columns: key, and how to read a row's value (its times by the statistic
// chosen above the table: mean, median or 90th percentile).
const TIMES = ["initial_response", "response", "resolution", "resolution_business"];
const COLUMNS = [
  ["teammate", (r) => (r.teammate_id === null ? null : page.teammateName(r.teammate_id))],
  ...TIMES.map((k) => [k, (r, stat) => r[`${k}_seconds`][stat]]),
  ["csat", (r) => r.csat.mean],
  ["addressed", (r) => r.addressed_conversations],
  ["closed", (r) => r.closed_conversations],
];
const SORTS = COLUMNS.flatMap(([key]) => [key, `-${key}`]);

const page = startPage({
  strings,
  title: "team.title",
  extras: { csat: ["5", "3", "2"], stat: ["mean", "median", "p90"], sort: SORTS },
  load: (params) => getJson("/v1/team", params),
  isEmpty: (d) => {
    const t = d.tiles;
    return [t.initial_response_seconds.count, t.response_seconds.count, t.resolution_seconds.count,
      t.csat.count, t.successful_transfers, t.addressed_conversations].every((x) => x === 0);
  },
  render,
});
page.charts = charts;
page.hidden = new Set(); // efficiency series switched off in the legend
const { state, t } = page;
const n = (x) => I.number(state.lang, x);
const dur = (x) => I.duration(state.lang, x);
const score = (x) => (x === null ? "—" : I.decimal(state.lang, x));

function render(d) {
  document.querySelectorAll("[data-csat]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.csat === state.csat)));
  document.querySelectorAll("[data-stat]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.stat === state.stat)));
  $("export").href = `/v1/reports/teammates.csv?${page.params()}`;
  renderTiles(d);
  renderEfficiency(d);
  renderCsat(d);
  renderTeammates(d);
}

function renderTiles(d) {
  const now = d.tiles, before = d.tiles.previous;
  for (const name of [...DURATIONS, "resolution_business"]) {
    const a = now[`${name}_seconds`], b = before[`${name}_seconds`];
    setTile(page, `tile-${name}`, {
      now: a.mean, before: b.mean, format: dur, better: "lower",
      split: t("tile.spread", { median: dur(a.median), p90: dur(a.p90) }),
    });
  }
  const out5 = (x) => (x === null ? "—" : t("tile.out_of_5", { score: score(x) }));
  setTile(page, "tile-csat", { now: now.csat.mean, before: before.csat.mean, format: out5, points: 1, split: t("tile.surveys", { count: n(now.csat.count) }) });
  setTile(page, "tile-transfers", { now: now.successful_transfers, before: before.successful_transfers, format: n });
  setTile(page, "tile-addressed", { now: now.addressed_conversations, before: before.addressed_conversations, format: n });
  setTile(page, "tile-closed", { now: now.closed_conversations, before: before.closed_conversations, format: n });
}

function renderEfficiency(d) {
  const labels = d.buckets.map((b) => I.bucketLabel(state.lang, b, d.granularity, d.period.timezone));
  const series = [
    ...DURATIONS.map((name) => ({ key: name, name: t(`series.${name}`), data: d.efficiency[`${name}_seconds`], color: COLORS[name] })),
    { key: "csat", name: t("series.csat"), data: d.efficiency.csat, color: COLORS.csat, csat: true },
  ];
  const legend = $("efficiency-legend");
  legend.replaceChildren(...series.map((s) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.series = s.key;
    b.setAttribute("aria-pressed", String(!page.hidden.has(s.key)));
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.style.background = s.color;
    b.append(dot, s.name);
    b.addEventListener("click", () => {
      if (page.hidden.has(s.key)) page.hidden.delete(s.key); else page.hidden.add(s.key);
      renderEfficiency(page.data);
    });
    return b;
  }));
  document.querySelectorAll(".live-note").forEach((el) => { el.hidden = d.in_progress_bucket === null; });
  const shown = efficiency("chart-efficiency", {
    labels, series, hidden: page.hidden, live: d.in_progress_bucket, liveText: t("in_progress"), formatTime: dur, formatScore: score,
    minutes: (m) => t("minutes", { n: n(m) }), names: { time: t("axis.time"), score: t("axis.csat") },
  });
  const cell = (s, v) => (s.csat ? score(v) : dur(v));
  table("table-efficiency", [t("bucket"), ...series.map((s) => s.name)], shown.map((l, i) => [l, ...series.map((s) => cell(s, s.data[i]))]));
  const means = [[t("series.initial_response"), dur(d.tiles.initial_response_seconds.mean)], [t("series.response"), dur(d.tiles.response_seconds.mean)],
    [t("series.resolution"), dur(d.tiles.resolution_seconds.mean)], [t("series.csat"), score(d.tiles.csat.mean)]];
  describe("chart-efficiency", t("alt.series", { title: t("chart.efficiency"), summary: means.map(([a, b]) => `${a} ${b}`).join("; ") }));
}

function renderCsat(d) {
  const parts = csatParts(t, d.csat_breakdown, state.csat);
  donut("chart-csat", { parts, format: n, share: (x) => I.share(state.lang, x), emptyText: t("chart.no_surveys") });
  table("table-csat", [t("score"), t("surveys")], parts.map((p) => [p.name, n(p.value)]));
  describe("chart-csat", t("alt.series", { title: t("chart.csat"), summary: parts.map((p) => `${p.name} ${n(p.value)}`).join("; ") }));
}

function renderTeammates(d) {
  const descending = state.sort.startsWith("-");
  const key = state.sort.replace(/^-/, "");
  const [, value] = COLUMNS.find(([k]) => k === key);
  const rows = sortedBy(d.by_teammate, (r) => value(r, state.stat), descending, state.lang);
  const show = {
    teammate: (r) => (r.teammate_id === null ? t("unknown_teammate") : page.teammateName(r.teammate_id)),
    ...Object.fromEntries(TIMES.map((k) => [k, (r) => dur(r[`${k}_seconds`][state.stat])])),
    csat: (r) => (r.csat.count ? `${score(r.csat.mean)} (${n(r.csat.count)})` : "—"),
    addressed: (r) => n(r.addressed_conversations),
    closed: (r) => n(r.closed_conversations),
  };
  sortableTable("table-teammates", {
    columns: COLUMNS.map(([k]) => ({ key: k, label: t(`col.${k}`), sortLabel: t("sort.by", { column: t(`col.${k}`) }) })),
    rows: rows.map((r) => COLUMNS.map(([k]) => show[k](r))),
    sortKey: key,
    descending,
    emptyText: t("no_teammates"),
    onSort: (k) => page.go({ sort: k === key && !descending ? `-${k}` : k }, false),
  });
}

document.querySelectorAll("[data-csat]").forEach((b) => b.addEventListener("click", () => page.go({ csat: b.dataset.csat }, false)));
document.querySelectorAll("[data-stat]").forEach((b) => b.addEventListener("click", () => page.go({ stat: b.dataset.stat }, false)));
