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

// Every chart writes in the page's own font (ECharts' default is a generic sans-serif).
let themed = false;
function chart(id) {
  if (!themed) {
    const fontFamily = getComputedStyle(document.body).fontFamily;
    // axis labels named too: the room they are given (`containLabel`) is measured in it
    const axis = { axisLabel: { fontFamily }, nameTextStyle: { fontFamily } };
    echarts.registerTheme("convoscope", { textStyle: { fontFamily }, categoryAxis: axis, valueAxis: axis });
    themed = true;
  }
  if (!charts[id]) charts[id] = echarts.init($(id), "convoscope", { renderer: "svg" });
  return charts[id];
}

window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

// The bucket axis of a chart over time. Every bucket keeps its label while the labels fit
// turned (45°, or upright when long), so that seven days read on a phone as on a desktop;
// only when there is no room even for that (30 days on a phone) does ECharts thin them out, and
// the tooltip and the table still name each bucket. The bucket in progress is marked on the
// axis by a star and a muted italic label: its "(still in progress)" stays in the data, for
// the tooltip and the table, instead of lengthening one label until the others hide.
function bucketAxis(id, labels, shown, live, margins) {
  const room = ($(id).clientWidth - margins) / Math.max(labels.length, 1);
  const widest = Math.max(0, ...labels.map((l) => l.length)) * 6.5 + 12;
  // turned labels are parallel lines of 12 px type: 45° needs 18 px a bucket, upright 13
  const rotate = widest <= room ? 0 : room >= 18 ? 45 : 90;
  const every = rotate !== 90 || room >= 13;
  return {
    type: "category", data: shown,
    axisLabel: {
      interval: every ? 0 : "auto", rotate, hideOverlap: !every,
      formatter: (_, i) => (i === live ? `{live|${labels[i]} *}` : labels[i]),
      rich: { live: { color: "#54555a", fontStyle: "italic" } },
    },
  };
}

// About how wide the value axis's labels are (the widest is the top one), for the room left
// to the buckets: money takes more than counts.
function axisWidth(series, stacked, format) {
  const totals = series[0] ? series[0].data.map((_, i) => (stacked ? sum(series.map((s) => s.data[i] || 0)) : Math.max(...series.map((s) => s.data[i] || 0)))) : [];
  return String(format(Math.max(0, ...totals) * 1.25)).length * 6.5 + 8;
}

// The bucket in progress drawn lighter.
const lighter = (data, live) => data.map((v, i) => (i === live ? { value: v, itemStyle: { opacity: 0.45 } } : v));

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
  const shown = labels.map((l, i) => (i === live ? `${l} (${liveText})` : l));
  chart(id).setOption({
    animation: false,
    color: series.map((s) => s.color),
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    legend: { top: 0, data: series.map((s) => s.name) },
    tooltip: { trigger: "axis", valueFormatter: (v) => format(v) },
    xAxis: bucketAxis(id, labels, shown, live, 40 + axisWidth(series, stacked, format)),
    yAxis: { type: "value", minInterval: 1, axisLabel: { formatter: (v) => format(v) } },
    series: series.map((s) => ({
      name: s.name, type: s.type || "bar", data: lighter(s.data, live),
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
    grid: { left: 8, right: 8, top: narrow ? 84 : 40, bottom: 8, containLabel: true },
    legend: { top: 0, data: [...series.map((s) => s.name), rate.name] },
    tooltip: { trigger: "axis", formatter: (items) => [items[0].axisValueLabel, ...items.map((it) => {
      const value = it.seriesIndex < series.length ? format(series[it.seriesIndex].data[it.dataIndex]) : formatRate(rate.data[it.dataIndex]);
      return `${it.marker}${it.seriesName}: ${value}`;
    })].join("<br>") },
    xAxis: bucketAxis(id, labels, shown, live, 112),
    yAxis: [
      { type: "value", minInterval: 1, axisLabel: { formatter: (v) => format(v) } },
      { type: "value", min: 0, max: 1, splitLine: { show: false }, axisLabel: { formatter: (v) => formatRate(v) } },
    ],
    series: [
      ...series.map((s) => ({ name: s.name, type: "bar", stack: "total", barMaxWidth: 36, data: lighter(s.data, live) })),
      { name: rate.name, type: "line", yAxisIndex: 1, data: rate.data, connectNulls: false, showSymbol: labels.length <= 48, symbolSize: 6 },
    ],
  }, true);
  return shown;
}

// Times per bucket as lines on the left axis (drawn in minutes, so that its ticks are round,
// told exactly in the tooltip) and a score (1-5) as bars on the right one, each axis titled;
// a null is a bucket without data (a gap, not a zero). `hidden` holds the keys switched off.
// The score axis reaches a little above 5, so that a bar at 5 does not touch the frame.
export function efficiency(id, { labels, series, hidden, live, liveText, formatTime, formatScore, minutes, names }) {
  const shown = labels.map((l, i) => (i === live ? `${l} (${liveText})` : l));
  const title = { color: "#54555a", fontSize: 12 };
  chart(id).setOption({
    animation: false,
    color: series.map((s) => s.color),
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    legend: { show: false, data: series.map((s) => s.name), selected: Object.fromEntries(series.map((s) => [s.name, !hidden.has(s.key)])) },
    tooltip: { trigger: "axis", formatter: (items) => [items[0].axisValueLabel, ...items.map((it) => {
      const s = series[it.seriesIndex], value = s.data[it.dataIndex];
      return `${it.marker}${s.name}: ${s.csat ? formatScore(value) : formatTime(value)}`;
    })].join("<br>") },
    xAxis: bucketAxis(id, labels, shown, live, 128),
    yAxis: [
      { type: "value", min: 0, name: names.time, nameTextStyle: { ...title, align: "left" }, axisLabel: { formatter: minutes } },
      { type: "value", min: 0, max: 5.4, interval: 1, name: names.score, nameTextStyle: { ...title, align: "right" },
        splitLine: { show: false }, axisLabel: { showMaxLabel: false } },
    ],
    series: series.map((s) => ({
      name: s.name, type: s.csat ? "bar" : "line", yAxisIndex: s.csat ? 1 : 0,
      data: lighter(s.csat ? s.data : s.data.map((v) => (v === null ? null : v / 60)), live),
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
export function donut(id, { parts, format, share, emptyText }) {
  const total = sum(parts.map((p) => p.value));
  const narrow = $(id).clientWidth < 480;
  const percentOf = (value) => share(total ? value / total : 0);
  chart(id).setOption({
    animation: false,
    title: total ? undefined : centred(emptyText),
    tooltip: { trigger: "item", valueFormatter: (v) => format(v) },
    legend: { bottom: 0, formatter: (name) => {
      const value = parts.find((p) => p.name === name).value;
      return `${name}: ${format(value)} (${percentOf(value)})`;
    } },
    series: [{
      type: "pie", radius: ["45%", "70%"], center: ["50%", "45%"], stillShowZeroSum: false,
      data: total ? parts.map((p) => ({ name: p.name, value: p.value, itemStyle: { color: p.color } }))
        : [{ name: "", value: 1, itemStyle: { color: COLORS.empty }, tooltip: { show: false } }],
      label: { show: Boolean(total) && !narrow, formatter: (p) => `${p.name}: ${format(p.value)} (${percentOf(p.value)})` },
      labelLayout: { hideOverlap: true, moveOverlap: "shiftY" },
      minShowLabelAngle: 6, // a thin slice is named in the legend only, not in a crowd of labels
      silent: !total,
    }],
  }, true);
}

export { sum };
