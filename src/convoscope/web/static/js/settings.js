// Workspace settings for admins: the time zone, the business hours (SPEC section 5), the
// flow catalogue (section 7) and the attribution window (section 8), read and written through
// GET/PUT /v1/workspace. Each weekday's
// spans are typed as "09:00-12:00, 13:00-17:30"; every day empty means none set (24/7). Each
// flow the chatbot entered (and each one the catalogue names) gets a type picker; "as the
// chatbot says" leaves it out of the catalogue.
import { getJson, putJson } from "./api.js";
import * as I from "./i18n.js";

const $ = (id) => document.getElementById(id);
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const SPAN = /^\s*(\d{2}:\d{2})\s*[-–]\s*(\d{2}:\d{2})\s*$/;

function dialogHtml() {
  const days = WEEKDAYS.map((day) => `
      <label class="hours-row"><span data-i18n="day.${day}"></span>
        <input type="text" id="hours-${day}" inputmode="numeric" autocomplete="off" aria-describedby="hours-help"></label>`).join("");
  return `
  <dialog id="settings" aria-labelledby="settings-title">
    <form id="settings-form" method="dialog" novalidate>
      <h2 id="settings-title" data-i18n="settings.title"></h2>
      <label class="field"><span data-i18n="settings.timezone"></span>
        <input type="text" id="settings-tz" list="settings-zones" autocomplete="off" required></label>
      <datalist id="settings-zones"></datalist>
      <label class="field"><span data-i18n="settings.window"></span>
        <input type="number" id="settings-window" min="1" max="365" step="1" required aria-describedby="window-help"></label>
      <p id="window-help" class="muted" data-i18n="settings.window_help"></p>
      <fieldset class="hours">
        <legend data-i18n="settings.hours"></legend>
        <p id="hours-help" class="muted" data-i18n="settings.hours_help"></p>
        ${days}
      </fieldset>
      <fieldset class="flows">
        <legend data-i18n="settings.flows"></legend>
        <p id="flows-help" class="muted" data-i18n="settings.flows_help"></p>
        <div id="settings-flows"></div>
      </fieldset>
      <p id="settings-error" class="form-error" role="alert" hidden></p>
      <div class="dialog-actions">
        <button type="button" id="settings-cancel" data-i18n="settings.cancel"></button>
        <button type="submit" id="settings-save" class="primary" data-i18n="settings.save"></button>
      </div>
    </form>
  </dialog>`;
}

// The spans typed for each day, or the first mistake as { day, text }.
function parseHours(texts) {
  const hours = {};
  for (const day of WEEKDAYS) {
    const parts = (texts[day] || "").split(",").map((p) => p.trim()).filter(Boolean);
    hours[day] = [];
    for (const part of parts) {
      const m = part.match(SPAN);
      if (!m) return { error: { day, text: part } };
      hours[day].push([m[1], m[2]]);
    }
  }
  return { hours: WEEKDAYS.some((d) => hours[d].length) ? hours : null };
}

function build(page) {
  document.body.insertAdjacentHTML("beforeend", dialogHtml());
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  $("settings-zones").replaceChildren(...zones.map((z) => Object.assign(document.createElement("option"), { value: z })));
  $("settings-cancel").addEventListener("click", () => $("settings").close());
  $("settings-form").addEventListener("submit", (e) => { e.preventDefault(); save(page); });
}

function showError(message) {
  $("settings-error").textContent = message;
  $("settings-error").hidden = false;
}

async function save(page) {
  const t = page.t;
  const texts = Object.fromEntries(WEEKDAYS.map((d) => [d, $(`hours-${d}`).value]));
  const parsed = parseHours(texts);
  if (parsed.error) {
    showError(t("settings.bad_span", { day: t(`day.${parsed.error.day}`), text: parsed.error.text }));
    $(`hours-${parsed.error.day}`).focus();
    return;
  }
  const flowTypes = Object.fromEntries([...$("settings-flows").querySelectorAll("select")]
    .filter((sel) => sel.value).map((sel) => [sel.dataset.flow, sel.value]));
  const days = Number($("settings-window").value);
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    showError(t("settings.bad_window"));
    $("settings-window").focus();
    return;
  }
  try {
    await putJson("/v1/workspace", {
      timezone: $("settings-tz").value.trim(), business_hours: parsed.hours, flow_types: flowTypes, attribution_window_days: days,
    });
  } catch (error) {
    const first = error.errors[0];
    showError(first ? t("settings.rejected", { param: first.param, detail: first.message || error.message }) : t("error", { detail: error.message }));
    return;
  }
  $("settings").close();
  page.reload();
}

// One row per flow: its name (text, so user data stays data) and a type picker.
function renderFlows(t, flows, catalogue) {
  const names = [...new Set([...flows, ...Object.keys(catalogue)])].sort();
  const rows = names.map((flow, i) => {
    const label = document.createElement("label");
    label.className = "hours-row";
    const name = document.createElement("span");
    name.textContent = flow;
    const select = document.createElement("select");
    select.id = `flow-type-${i}`;
    select.dataset.flow = flow;
    select.setAttribute("aria-describedby", "flows-help");
    for (const value of ["", ...I.FLOW_TYPES]) {
      const option = new Option(value ? t(`flow_type.${value}`) : t("settings.flow_as_sent"), value);
      option.selected = (catalogue[flow] || "") === value;
      select.append(option);
    }
    label.append(name, select);
    return label;
  });
  if (!rows.length) {
    const none = document.createElement("p");
    none.className = "muted";
    none.textContent = t("settings.no_flows");
    rows.push(none);
  }
  $("settings-flows").replaceChildren(...rows);
}

export async function openSettings(page) {
  if (!$("settings")) build(page);
  I.translatePage(page.state.lang);
  $("settings-error").hidden = true;
  const [ws, flows] = await Promise.all([getJson("/v1/workspace"), getJson("/v1/flows")]);
  renderFlows(page.t, flows, ws.flow_types || {});
  $("settings-tz").value = ws.timezone;
  $("settings-window").value = String(Math.round(ws.attribution_window_seconds / 86400));
  // an empty day reads as what it means: closed, or open all day when no day has hours
  const empty = page.t(ws.business_hours ? "settings.closed" : "settings.always_open");
  for (const day of WEEKDAYS) {
    const spans = (ws.business_hours && ws.business_hours[day]) || [];
    $(`hours-${day}`).value = spans.map(([a, b]) => `${a}-${b}`).join(", ");
    $(`hours-${day}`).placeholder = empty;
  }
  $("settings").showModal();
}
