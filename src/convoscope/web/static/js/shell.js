// The shell every analytics page shares: the top bar (navigation between the pages the server
// registers, from /v1/pages; language,
// workspace settings, sign-out), the filter bar (period presets, custom range, and the pickers
// of the filters the page takes, each with a search box), the filters in the URL, and the
// loading / empty / error states. A page module gives `startPage` its title, its filters, how
// to load its data and how to render it; the page's HTML holds only its own <main>.
import { getJson, logout, putJson } from "./api.js";
import * as I from "./i18n.js";
import { openSettings } from "./settings.js";

const $ = (id) => document.getElementById(id);

const PRESETS = ["today", "yesterday", "last_7_days", "last_30_days", "this_month", "last_month"];
// The pickers: where their options come from (an API list, or fixed `options`) and the
// pseudo-options first (`extra`: "no department", "no flow").
const PICKERS = {
  channels: { source: "/v1/channels" },
  departments: { source: "/v1/departments", extra: [I.NO_DEPARTMENT] },
  teammates: { source: "/v1/teammates" },
  flow_types: { options: I.FLOW_TYPES, extra: [I.NO_FLOW] },
  flows: { source: "/v1/flows", extra: [I.NO_FLOW] },
};
const DEFAULT_FILTERS = ["channels", "departments", "teammates"];

// Lists in the URL and the API: comma-separated, a comma or backslash inside a name escaped.
export const joinList = (items) => items.map((i) => i.replace(/\\/g, "\\\\").replace(/,/g, "\\,")).join(",");
export function splitList(text) {
  if (!text) return [];
  const items = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\" && i + 1 < text.length) current += text[++i];
    else if (text[i] === ",") { items.push(current); current = ""; }
    else current += text[i];
  }
  items.push(current);
  return items.filter((x) => x.trim());
}

function pickerHtml(key) {
  return `
    <details class="picker" id="${key}">
      <summary id="${key}-summary"></summary>
      <fieldset id="${key}-list">
        <legend class="sr-only" data-i18n="${key}.label"></legend>
        <input type="search" id="${key}-search" data-i18n-placeholder="search" data-i18n-label="${key}.search">
        <div class="picker-actions">
          <button type="button" id="${key}-all" data-i18n="${key}.select_all"></button>
          <button type="button" id="${key}-clear" data-i18n="clear"></button>
        </div>
        <div id="${key}-options" class="picker-options"></div>
        <p id="${key}-hint" class="muted" role="status" data-i18n="${key}.pick" hidden></p>
      </fieldset>
    </details>`;
}

function shellHtml(title, LIST_KEYS) {
  const presets = [...PRESETS, "custom"].map((p) => `<option value="${p}" data-i18n="period.${p}"></option>`).join("");
  return `
  <header class="topbar">
    <span class="brand">convoscope</span>
    <nav class="nav" id="nav" data-i18n-label="nav"></nav>
    <span class="spacer"></span>
    <span id="workspace" class="muted"></span>
    <select id="workspace-switch" hidden data-i18n-label="workspace.switch"></select>
    <div class="lang" role="group" aria-label="Language / Langue">
      <button type="button" data-lang="en" aria-pressed="true">EN</button>
      <button type="button" data-lang="fr" aria-pressed="false">FR</button>
    </div>
    <button type="button" id="settings-open" class="link" data-i18n="settings.open"></button>
    <button type="button" id="logout" class="link" data-i18n="logout"></button>
  </header>
  <div class="page-title"><h1 data-i18n="${title}"></h1>
    <button type="button" id="filters-toggle" class="filters-toggle" aria-expanded="false" aria-controls="filters"></button>
  </div>
  <section class="filters" id="filters" data-i18n-label="filters">
    <select id="period" class="period" data-i18n-label="period">${presets}</select>
    <form class="range" id="range-form" novalidate hidden>
      <label><span data-i18n="range.from"></span> <input type="date" id="range-from" required></label>
      <label><span data-i18n="range.to"></span> <input type="date" id="range-to" required></label>
      <button type="submit" data-i18n="range.apply"></button>
      <p id="range-error" class="form-error" role="alert" hidden></p>
    </form>
    ${LIST_KEYS.map(pickerHtml).join("")}
    <span class="muted" id="timezone"></span>
  </section>
  <div id="status" role="status" aria-live="polite" class="status"></div>
  <div id="error" class="banner error" role="alert" hidden>
    <span id="error-text"></span>
    <button type="button" id="retry" data-i18n="retry"></button>
    <button type="button" id="reset" data-i18n="filters.reset" hidden></button>
  </div>
  <div id="empty" class="banner" hidden data-i18n="empty"></div>`;
}

// `title`: the i18n key of the page's heading. `strings`: the page's own strings module.
// `filters`: the list filters the page takes (its pickers, in order; the API refuses others).
// `extras`: page-only URL keys, e.g.
// { traffic: ["transfer_requests", "engaged_conversations"] } (the first value is the
// default). `load(params)` fetches the page's data; `render(data)` draws it; `isEmpty(data)`
// says when to show the empty state.
export function startPage({ title, strings, filters = DEFAULT_FILTERS, extras = {}, load, render, isEmpty }) {
  const LIST_KEYS = filters;
  let customizing = false; // "Custom range…" picked, its days not applied yet
  I.addStrings(strings);
  $("shell").innerHTML = shellHtml(title, LIST_KEYS);
  const state = { period: "last_7_days", from: null, to: null, lang: I.pickLanguage() };
  for (const key of LIST_KEYS) state[key] = [];
  for (const [key, values] of Object.entries(extras)) state[key] = values[0];
  const page = {
    state, data: null, options: {}, names: null, loads: 0, lastUpdateMs: null, go, t,
    params: () => queryParams(), reload: () => fetchAndRender(),
    // a teammate by the display name the platform gave (the id when there is none)
    teammateName: (id) => (page.names && page.names[id]) || id,
  };
  window.convoscope = page;

  function t(key, vars) { return I.t(state.lang, key, vars); }

  // URL <-> state ------------------------------------------------------------------------
  function readUrl() {
    const q = new URLSearchParams(location.search);
    state.from = q.get("from");
    state.to = q.get("to");
    state.period = state.from && state.to ? null : q.get("period") || "last_7_days";
    for (const key of LIST_KEYS) state[key] = splitList(q.get(key));
    for (const [key, values] of Object.entries(extras)) state[key] = values.includes(q.get(key)) ? q.get(key) : values[0];
    if (q.get("lang") === "en" || q.get("lang") === "fr") state.lang = q.get("lang");
  }

  // The filters every page shares (what the API reads, and what navigation keeps).
  function queryParams() {
    const q = new URLSearchParams();
    if (state.period) q.set("period", state.period);
    else { q.set("from", state.from); q.set("to", state.to); }
    for (const key of LIST_KEYS) if (state[key].length) q.set(key, joinList(state[key]));
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
  // The navigation: one link per page the server registers, named in the page's language.
  async function loadNav() {
    let me;
    [page.pages, me] = await Promise.all([getJson("/v1/pages"), getJson("/v1/me")]);
    page.me = me;
    for (const p of page.pages) {
      const link = document.createElement("a");
      link.dataset.page = p.path;
      $("nav").append(link);
    }
    showWorkspaces(me);
    renderFilters();
  }

  // A user of several workspaces picks one in the header; the page then opens on it with the
  // same period and language (the list filters name another workspace's channels and teams).
  function showWorkspaces(me) {
    const select = $("workspace-switch");
    if (me.workspaces.length < 2) return;
    select.replaceChildren(...me.workspaces.map((name) => new Option(name, name, false, name === me.workspace)));
    select.hidden = false;
    $("workspace").hidden = true;
    select.addEventListener("change", async () => {
      await putJson("/v1/me/workspace", { workspace: select.value });
      const q = queryParams();
      for (const key of LIST_KEYS) q.delete(key);
      q.set("lang", state.lang);
      location.assign(`${location.pathname}?${q}`);
    });
  }

  async function loadOptions() {
    const lists = await Promise.all(LIST_KEYS.map((key) => page.options[key] || PICKERS[key].options || getJson(PICKERS[key].source)));
    LIST_KEYS.forEach((key, i) => { page.options[key] = lists[i]; });
    if (LIST_KEYS.includes("teammates") && !page.names) page.names = await getJson("/v1/teammate-names");
  }

  async function fetchAndRender() {
    const mine = ++page.loads;
    const started = performance.now();
    setStatus("loading");
    try {
      const [data] = await Promise.all([load(queryParams()), loadOptions(), navReady]);
      if (mine !== page.loads) return; // a newer request superseded this one
      page.data = data;
      redraw();
      setStatus(isEmpty(data) ? "empty" : "ready");
      page.lastUpdateMs = performance.now() - started;
    } catch (error) {
      if (mine !== page.loads) return;
      // the pickers, the workspace and its zone stay: they do not depend on the bad request
      await Promise.allSettled([loadOptions(), navReady]);
      renderFilters();
      showError(error);
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
    $("reset").hidden = !param;
  }

  // Rendering ----------------------------------------------------------------------------
  function redraw() {
    I.translatePage(state.lang);
    document.title = `convoscope · ${t(title)}`;
    renderFilters();
    if (page.data) render(page.data);
  }

  function renderFilters() {
    // one dropdown of presets; a chosen range (or "Custom range…") shows its two days
    if (!customizing) $("period").value = state.period || "custom";
    $("range-form").hidden = $("period").value !== "custom";
    document.querySelectorAll("[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang)));
    for (const p of page.pages || []) {
      const a = document.querySelector(`[data-page="${p.path}"]`);
      const shared = queryParams(); // the period, and the filters the other page takes too
      for (const key of LIST_KEYS) if (!p.filters.includes(key)) shared.delete(key);
      shared.set("lang", state.lang);
      a.textContent = p.titles[state.lang] || p.title;
      a.href = `${p.path}?${shared}`;
      if (p.path === location.pathname) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const period = page.data && page.data.period;
    if (period) {
      $("range-from").value = period.from;
      $("range-to").value = period.to;
    }
    const zone = period ? period.timezone : page.me && page.me.timezone;
    if (zone) $("timezone").textContent = t("timezone", { tz: zone });
    const workspace = page.data ? page.data.workspace : page.me && page.me.workspace;
    if (workspace) $("workspace").textContent = workspace;
    for (const key of LIST_KEYS) renderPicker(key);
    const chosen = LIST_KEYS.filter((key) => state[key].length).length;
    const when = state.period ? t(`period.${state.period}`) : `${state.from} – ${state.to}`;
    $("filters-toggle").textContent = t(chosen ? "filters.folded_some" : "filters.folded", { period: when, n: chosen });
  }

  function optionLabel(key, value) {
    if (key === "channels") return I.channelName(state.lang, value);
    if (key === "departments" && value === I.NO_DEPARTMENT) return t("no_department");
    if ((key === "flows" || key === "flow_types") && value === I.NO_FLOW) return t("no_flow");
    if (key === "flow_types") return t(`flow_type.${value}`);
    if (key === "teammates") return page.teammateName(value);
    return value;
  }

  function renderPicker(key) {
    const list = $(`${key}-options`);
    const known = [...new Set([...(PICKERS[key].extra || []), ...(page.options[key] || []), ...state[key]])];
    const query = $(`${key}-search`).value.trim().toLocaleLowerCase();
    list.replaceChildren();
    for (const value of known) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = value;
      box.checked = !state[key].length || state[key].includes(value); // none picked = all
      box.addEventListener("change", () => pick(key));
      label.append(box);
      if (key === "channels") {
        const dot = document.createElement("span");
        dot.className = "dot";
        dot.style.background = I.channelColor(value);
        label.append(dot);
      }
      const text = optionLabel(key, value);
      label.append(text);
      label.hidden = Boolean(query) && !text.toLocaleLowerCase().includes(query);
      list.append(label);
    }
    const picked = state[key].length
      ? state[key].map((v) => optionLabel(key, v)).join(", ")
      : known.length ? t(`${key}.all`) : t(`${key}.none`);
    $(`${key}-summary`).textContent = t(`${key}.summary`, { list: picked });
    $(`${key}-hint`).hidden = true;
  }

  function pick(key) {
    const boxes = [...$(`${key}-options`).querySelectorAll("input")];
    const picked = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!picked.length) { $(`${key}-hint`).hidden = false; return; } // wait for a pick
    go({ [key]: picked.length === boxes.length ? [] : picked });
  }

  // Events -------------------------------------------------------------------------------
  $("period").addEventListener("change", () => {
    customizing = $("period").value === "custom";
    if (customizing) {
      $("range-form").hidden = false;
      $("range-from").focus();
    } else {
      go({ period: $("period").value, from: null, to: null });
    }
  });
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
    if (!invalid) {
      customizing = false;
      go({ period: null, from, to });
    }
  });
  const pickers = LIST_KEYS.map((key) => $(key));
  for (const key of LIST_KEYS) {
    $(`${key}-all`).addEventListener("click", () => go({ [key]: [] }));
    $(`${key}-clear`).addEventListener("click", () => {
      $(`${key}-options`).querySelectorAll("input").forEach((b) => { b.checked = false; });
      $(`${key}-hint`).hidden = false;
    });
    $(`${key}-search`).addEventListener("input", () => renderPicker(key));
    $(key).addEventListener("toggle", () => { // one picker open at a time
      if ($(key).open) pickers.filter((p) => p !== $(key)).forEach((p) => { p.open = false; });
    });
  }
  document.addEventListener("keydown", (e) => {
    const open = pickers.find((p) => p.open);
    if (e.key === "Escape" && open) { open.open = false; open.querySelector("summary").focus(); }
  });
  document.addEventListener("click", (e) => {
    for (const p of pickers) if (p.open && !p.contains(e.target)) p.open = false;
  });
  // On a phone the filter bar folds behind one button that says what is chosen.
  $("filters-toggle").addEventListener("click", () => {
    const open = $("filters").classList.toggle("open");
    $("filters-toggle").setAttribute("aria-expanded", String(open));
  });
  $("retry").addEventListener("click", () => fetchAndRender());
  $("reset").addEventListener("click", () => location.assign(`${location.pathname}?lang=${state.lang}`));
  $("logout").addEventListener("click", logout);
  $("settings-open").addEventListener("click", () => openSettings(page));
  window.addEventListener("popstate", () => { readUrl(); fetchAndRender(); });

  readUrl();
  history.replaceState(null, "", pageUrl());
  redraw();
  const navReady = loadNav(); // the first load waits for it, so a ready page has its links
  fetchAndRender();
  return page;
}
