// The shell every analytics page shares: filters in the URL, the filter bar (period presets,
// custom range, channel picker), language switch, sign-out, and the loading / empty / error
// states. A page module gives `startPage` how to load its data and how to render it.
import { getJson, logout } from "./api.js";
import * as I from "./i18n.js";

const $ = (id) => document.getElementById(id);

// `extras`: page-only URL keys, e.g. { traffic: ["transfer_requests", "engaged_conversations"] }
// (the first value is the default). `load(params)` fetches the page's data; `render(data)`
// draws it; `isEmpty(data)` says when to show the empty state.
export function startPage({ extras = {}, load, render, isEmpty }) {
  const state = { period: "last_7_days", from: null, to: null, channels: [], lang: I.pickLanguage() };
  for (const [key, values] of Object.entries(extras)) state[key] = values[0];
  const page = { state, data: null, channels: [], loads: 0, lastUpdateMs: null, go, t, params: () => queryParams() };
  window.convoscope = page;

  function t(key, vars) { return I.t(state.lang, key, vars); }

  // URL <-> state ------------------------------------------------------------------------
  function readUrl() {
    const q = new URLSearchParams(location.search);
    state.from = q.get("from");
    state.to = q.get("to");
    state.period = state.from && state.to ? null : q.get("period") || "last_7_days";
    state.channels = (q.get("channels") || "").split(",").filter(Boolean);
    for (const [key, values] of Object.entries(extras)) state[key] = values.includes(q.get(key)) ? q.get(key) : values[0];
    if (q.get("lang") === "en" || q.get("lang") === "fr") state.lang = q.get("lang");
  }

  function queryParams() {
    const q = new URLSearchParams();
    if (state.period) q.set("period", state.period);
    else { q.set("from", state.from); q.set("to", state.to); }
    if (state.channels.length) q.set("channels", state.channels.join(","));
    return q;
  }

  function pageUrl() {
    const q = queryParams();
    for (const [key, values] of Object.entries(extras)) if (state[key] !== values[0]) q.set(key, state[key]);
    q.set("lang", state.lang);
    return `${location.pathname}?${q}`;
  }

  // Change state and record it in history; `reload` when the numbers change.
  function go(changes, reload = true) {
    Object.assign(state, changes);
    history.pushState(null, "", pageUrl());
    renderFilters(); // immediate feedback on the control; numbers follow when loaded
    if (reload) fetchAndRender(); else redraw();
  }

  // Data ---------------------------------------------------------------------------------
  async function fetchAndRender() {
    const mine = ++page.loads;
    const started = performance.now();
    setStatus("loading");
    try {
      const [data, channels] = await Promise.all([
        load(queryParams()),
        page.channels.length ? page.channels : getJson("/v1/channels"),
      ]);
      if (mine !== page.loads) return; // a newer request superseded this one
      page.data = data;
      page.channels = channels;
      redraw();
      setStatus(isEmpty(data) ? "empty" : "ready");
      page.lastUpdateMs = performance.now() - started;
    } catch (error) {
      if (mine === page.loads) showError(error);
    }
  }

  function setStatus(status) {
    document.body.dataset.state = status;
    $("main").setAttribute("aria-busy", String(status === "loading"));
    $("error").hidden = status !== "error";
    $("empty").hidden = status !== "empty";
    $("status").textContent = status === "loading" ? t("loading") : status === "ready" ? t("updated") : "";
  }

  function showError(error) {
    setStatus("error");
    const param = error.status === 422 && error.errors.length ? error.errors[0].param : null;
    $("error-text").textContent = error.status === 403 ? t("forbidden")
      : param ? t("param.invalid", { param })
      : t("error", { detail: error.message });
    $("retry").hidden = error.status === 403 || Boolean(param);
  }

  // Rendering ----------------------------------------------------------------------------
  function redraw() {
    I.translatePage(state.lang);
    renderFilters();
    if (page.data) render(page.data);
  }

  function renderFilters() {
    document.querySelectorAll("[data-period]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.period === state.period)));
    document.querySelectorAll("[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang)));
    const period = page.data && page.data.period;
    if (period) {
      $("range-from").value = period.from;
      $("range-to").value = period.to;
      $("timezone").textContent = t("timezone", { tz: period.timezone });
      $("workspace").textContent = page.data.workspace;
    }
    renderChannels();
  }

  function renderChannels() {
    const list = $("channel-options");
    const known = [...new Set([...page.channels, ...state.channels])];
    list.replaceChildren();
    for (const slug of known) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = slug;
      box.checked = !state.channels.length || state.channels.includes(slug); // none picked = all
      box.addEventListener("change", pickChannels);
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
    $("channels-hint").hidden = true;
  }

  function pickChannels() {
    const boxes = [...$("channel-options").querySelectorAll("input")];
    const picked = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!picked.length) { $("channels-hint").hidden = false; return; } // wait for a pick
    go({ channels: picked.length === boxes.length ? [] : picked });
  }

  // Events -------------------------------------------------------------------------------
  document.querySelectorAll("[data-period]").forEach((b) => b.addEventListener("click", () => go({ period: b.dataset.period, from: null, to: null })));
  document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => {
    localStorage.setItem("convoscope.lang", b.dataset.lang);
    go({ lang: b.dataset.lang }, false);
  }));
  $("range-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const from = $("range-from").value, to = $("range-to").value;
    const invalid = !from || !to || from > to;
    $("range-error").textContent = invalid ? t("range.invalid") : "";
    $("range-error").hidden = !invalid;
    if (!invalid) go({ period: null, from, to });
  });
  $("channels-all").addEventListener("click", () => go({ channels: [] }));
  $("channels-clear").addEventListener("click", () => {
    $("channel-options").querySelectorAll("input").forEach((b) => { b.checked = false; });
    $("channels-hint").hidden = false;
  });
  const picker = $("channels");
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && picker.open) { picker.open = false; picker.querySelector("summary").focus(); }
  });
  document.addEventListener("click", (e) => { if (picker.open && !picker.contains(e.target)) picker.open = false; });
  $("retry").addEventListener("click", () => fetchAndRender());
  $("logout").addEventListener("click", logout);
  window.addEventListener("popstate", () => { readUrl(); fetchAndRender(); });

  readUrl();
  history.replaceState(null, "", pageUrl());
  redraw();
  fetchAndRender();
  return page;
}
