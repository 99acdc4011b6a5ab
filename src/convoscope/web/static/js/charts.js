// Chart helpers shared by the pages (Apache ECharts, loaded as a classic script): one chart
// instance per element, a data table and a text alternative beside every chart, and honest
// pictures when there is little or nothing to draw.
export const charts = {};
const $ = (id) => document.getElementById(id);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

export const COLORS = {
  engaged: "#2563eb", non_engaged: "#64748b", teammate: "#7c3aed", chatbot: "#0e7490",
  customer: "#d97706", traffic: "#2563eb", closed: "#1d4ed8", empty: "#e2e8f0",
  initial_response: "#2563eb", response: "#0e7490", resolution: "#7c3aed", csat: "#d97706",
  scores: { 5: "#047857", 4: "#65a30d", 3: "#ca8a04", 2: "#ea580c", 1: "#b91c1c" },
  automated: "#047857", abandoned_in_flow: "#ea580c", transferred: "#7c3aed", not_engaged: "#94a3b8",
  in_progress: "#cbd5e1", rate: "#0f172a",
  flow_types: { campaign: "#db2777", transfer: "#7c3aed", sales: "#2563eb", support: "#0e7490", other: "#64748b", none: "#cbd5e1" },
};

function chart(id) {
  if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: "svg" });
  return charts[id];
}

window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

// A message drawn in the middle of an empty chart.
const centred = (text) => ({ text, left: "center", top: "middle", textStyle: { color: "#54555a", fontSize: 14, fontWeight: "normal" } });

// Rows into the table's body, the first cell of each a row header; every cell set as text,
// so user data stays data.
function fillBody(tableEl, rows) {
  const body = tableEl.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((value, i) => {
      const cell = document.createElement(i ? "td" : "th");
      if (!i) cell.scope = "row";
      cell.textContent = value;
      tr.append(cell);
    });
  }
  return body;
}

// A table of values (every cell set as text: user data stays data).
export function table(id, head, rows) {
  const tableEl = document.createElement("table");
  const headRow = tableEl.createTHead().insertRow();
  for (const h of head) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    headRow.append(th);
  }
  fillBody(tableEl, rows);
  $(id).replaceChildren(tableEl);
}

export function describe(id, label) {
  $(id).setAttribute("aria-label", label);
}

// Bars (stacked or not) or lines per bucket. `live` is the index of the bucket still in
// progress: its bars are drawn lighter and its label says so.
export function timeSeries(id, { labels, series, stacked, live, format, liveText }) {
  const mark = (data) => data.map((v, i) => (i === live ? { value: v, itemStyle: { opacity: 0.45 } } : v));
  const shown = labels.map((l, i) => (i === live ? `${l} (${liveText})` : l));
  chart(id).setOption({
    animation: false,
    color: series.map((s) => s.color),
    grid: { left: 48, right: 16, top: 40, bottom: 56 },
    legend: { top: 0, data: series.map((s) => s.name) },
    tooltip: { trigger: "axis", valueFormatter: (v) => format(v) },
    xAxis: { type: "category", data: shown, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", minInterval: 1, axisLabel: { formatter: (v) => format(v) } },
    series: series.map((s) => ({
      name: s.name, type: s.type || "bar", data: live === null ? s.data : mark(s.data),
      stack: stacked ? "total" : undefined, barMaxWidth: 36,
      showSymbol: labels.length <= 48, symbolSize: 6, // single points must show
    })),
  }, true);
  return shown;
}

// Counts per bucket as stacked bars (left axis) with a share per bucket as a line on the
// right axis (0-100 %); a null share is a bucket without a denominator (a gap).
export function stackedWithRate(id, { labels, series, rate, live, liveText, format, formatRate }) {
  const shown = labels.map((l, i) => (i === live ? `${l} (${liveText})` : l));
  const narrow = $(id).clientWidth < 560; // the legend wraps: room for its lines
  chart(id).setOption({
    animation: false,
    color: [...series.map((s) => s.color), rate.color],
    grid: { left: 48, right: 56, top: narrow ? 84 : 40, bottom: 56 },
    legend: { top: 0, data: [...series.map((s) => s.name), rate.name] },
    tooltip: { trigger: "axis", formatter: (items) => [items[0].axisValueLabel, ...items.map((it) => {
      const value = it.seriesIndex < series.length ? format(series[it.seriesIndex].data[it.dataIndex]) : formatRate(rate.data[it.dataIndex]);
      return `${it.marker}${it.seriesName}: ${value}`;
    })].join("<br>") },
    xAxis: { type: "category", data: shown, axisLabel: { hideOverlap: true } },
    yAxis: [
      { type: "value", minInterval: 1, axisLabel: { formatter: (v) => format(v) } },
      { type: "value", min: 0, max: 1, splitLine: { show: false }, axisLabel: { formatter: (v) => formatRate(v) } },
    ],
    series: [
      ...series.map((s) => ({
        name: s.name, type: "bar", stack: "total", barMaxWidth: 36,
        data: s.data.map((v, i) => (i === live ? { value: v, itemStyle: { opacity: 0.45 } } : v)),
      })),
      { name: rate.name, type: "line", yAxisIndex: 1, data: rate.data, connectNulls: false, showSymbol: labels.length <= 48, symbolSize: 6 },
    ],
  }, true);
  return shown;
}

// Times per bucket as lines on the left axis (drawn in minutes, so that its ticks are round,
// told exactly in the tooltip) and a score (1-5) as bars on the right one; a null is a bucket
// without data (a gap, not a zero). `hidden` holds the keys switched off.
export function efficiency(id, { labels, series, hidden, live, liveText, formatTime, formatScore, minutes }) {
  const shown = labels.map((l, i) => (i === live ? `${l} (${liveText})` : l));
  chart(id).setOption({
    animation: false,
    color: series.map((s) => s.color),
    grid: { left: 64, right: 48, top: 16, bottom: 56 },
    legend: { show: false, data: series.map((s) => s.name), selected: Object.fromEntries(series.map((s) => [s.name, !hidden.has(s.key)])) },
    tooltip: { trigger: "axis", formatter: (items) => [items[0].axisValueLabel, ...items.map((it) => {
      const s = series[it.seriesIndex], value = s.data[it.dataIndex];
      return `${it.marker}${s.name}: ${s.csat ? formatScore(value) : formatTime(value)}`;
    })].join("<br>") },
    xAxis: { type: "category", data: shown, axisLabel: { hideOverlap: true } },
    yAxis: [
      { type: "value", min: 0, axisLabel: { formatter: minutes } },
      { type: "value", min: 0, max: 5, interval: 1, splitLine: { show: false } },
    ],
    series: series.map((s) => ({
      name: s.name, type: s.csat ? "bar" : "line", yAxisIndex: s.csat ? 1 : 0,
      data: s.csat ? s.data : s.data.map((v) => (v === null ? null : v / 60)),
      barMaxWidth: 24, itemStyle: s.csat ? { opacity: 0.55 } : undefined,
      connectNulls: false, showSymbol: labels.length <= 48, symbolSize: 6,
    })),
  }, true);
  return shown;
}

// Rows ordered by `value(row)` (text by the language's collation, numbers by size), empty
// values last whatever the direction; `tie(a, b)` orders rows that compare equal.
export function sortedBy(rows, value, descending, lang, tie = () => 0) {
  return rows.slice().sort((a, b) => {
    const x = value(a), y = value(b);
    if (x === null || y === null) return x === y ? tie(a, b) : x === null ? 1 : -1;
    const order = typeof x === "string" ? x.localeCompare(y, lang) : x - y;
    return (descending ? -order : order) || tie(a, b);
  });
}

// A table sorted by one column, each heading a button that sorts by it (again: reversed);
// `aria-sort` says the order to assistive technology. Cells are text: user data stays data.
export function sortableTable(id, { columns, rows, sortKey, descending, emptyText, onSort }) {
  const tableEl = document.createElement("table");
  const headRow = tableEl.createTHead().insertRow();
  for (const col of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    if (col.key === sortKey) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.dataset.sort = col.key;
    button.title = col.sortLabel;
    button.textContent = col.label + (col.key === sortKey ? (descending ? " ▼" : " ▲") : "");
    button.addEventListener("click", () => onSort(col.key));
    th.append(button);
    headRow.append(th);
  }
  const body = fillBody(tableEl, rows);
  if (!rows.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = columns.length;
    cell.className = "empty-row";
    cell.textContent = emptyText;
  }
  $(id).replaceChildren(tableEl);
}

// Horizontal bars, largest on top; a message instead of an empty box when there is nothing.
export function horizontalBars(id, { names, values, color, name, format, emptyText }) {
  chart(id).setOption({
    animation: false,
    color: [color],
    title: values.length ? undefined : centred(emptyText),
    grid: { left: 8, right: 32, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => format(v) },
    xAxis: { type: "value", minInterval: 1, show: values.length > 0, axisLabel: { formatter: (v) => format(v) } },
    yAxis: { type: "category", data: names.slice().reverse(), show: values.length > 0 },
    series: [{ name, type: "bar", data: values.slice().reverse(), barMaxWidth: 28, label: { show: true, position: "right", formatter: (p) => format(p.value) } }],
  }, true);
}

// A donut of parts; with nothing to show, a grey ring and a message (never two equal halves).
export function donut(id, { parts, format, emptyText }) {
  const total = sum(parts.map((p) => p.value));
  const narrow = $(id).clientWidth < 480;
  chart(id).setOption({
    animation: false,
    title: total ? undefined : centred(emptyText),
    tooltip: { trigger: "item", valueFormatter: (v) => format(v) },
    legend: { bottom: 0, formatter: (name) => `${name}: ${format(parts.find((p) => p.name === name).value)}` },
    series: [{
      type: "pie", radius: ["45%", "70%"], center: ["50%", "45%"], stillShowZeroSum: false,
      data: total ? parts.map((p) => ({ name: p.name, value: p.value, itemStyle: { color: p.color } }))
        : [{ name: "", value: 1, itemStyle: { color: COLORS.empty }, tooltip: { show: false } }],
      label: { show: Boolean(total) && !narrow, formatter: (p) => `${p.name}: ${format(p.value)}` },
      silent: !total,
    }],
  }, true);
}

export { sum };
