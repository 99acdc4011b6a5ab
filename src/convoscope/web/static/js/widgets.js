// Pieces the pages share beyond the charts: a tile with its previous-period comparison, and
// the CSAT breakdown at a chosen scale (SPEC section 5's 5, 3 or 2 points).
import { COLORS } from "./charts.js";
import * as I from "./i18n.js";

const $ = (id) => document.getElementById(id);

// Whether a change is good news: lower is better for times, higher for the rest (`better`:
// "lower" or "higher"); "none" without a comparison.
function trend(now, before, better) {
  if (now === null || before === null || !before || now === before) return now === before && before ? "flat" : "none";
  return (now < before) === (better === "lower") ? "better" : "worse";
}

// The line under a tile's value: the relative change and the previous value, or the change in
// points (`points`: what one unit of the value is worth in points, 100 for a rate given as a
// share, 1 for a score out of 5).
function change(page, now, before, format, points) {
  const { t, state } = page;
  if (now === null || before === null || (!points && before === 0)) return t("tile.no_previous");
  const delta = points ? now - before : (now - before) / before;
  const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "■";
  const text = points ? t("tile.points", { points: I.points(state.lang, delta * points) }) : I.percent(state.lang, delta);
  return `${arrow} ${t("tile.previous", { change: text, previous: format(before) })}`;
}

// Fill the tile `id`: its value, the comparison line, and an optional second line (`split`).
export function setTile(page, id, { now, before, format, better = "higher", points = 0, split }) {
  const el = $(id);
  el.querySelector(".value").textContent = format(now);
  const c = el.querySelector(".change"); // none: a tile without a comparison
  if (c) {
    c.textContent = change(page, now, before, format, points);
    c.dataset.trend = trend(now, before, better);
  }
  if (split !== undefined) el.querySelector(".split").textContent = split;
}

// The CSAT breakdown at `scale` ("5", "3" or "2"): the five scores, or groups of them.
export function csatParts(t, breakdown, scale) {
  const c = (s) => breakdown[String(s)];
  if (scale === "5") return [5, 4, 3, 2, 1].map((s) => ({ name: t("csat.score", { score: s }), value: c(s), color: COLORS.scores[s] }));
  const positive = { name: t("csat.positive"), value: c(4) + c(5), color: COLORS.scores[5] };
  if (scale === "2") return [positive, { name: t("csat.negative_2"), value: c(1) + c(2) + c(3), color: COLORS.scores[1] }];
  return [positive, { name: t("csat.neutral"), value: c(3), color: COLORS.scores[3] }, { name: t("csat.negative_3"), value: c(1) + c(2), color: COLORS.scores[1] }];
}
