// Workspace settings for admins: the time zone and the business hours (SPEC section 5), read
// and written through GET/PUT /v1/workspace. Each weekday's spans are typed as
// "09:00-12:00, 13:00-17:30"; every day empty means none set (24/7).
import { getJson, putJson } from "./api.js";
import * as I from "./i18n.js";

const $ = (id) => document.getElementById(id);
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const SPAN = /^\s*(\d{2}:\d{2})\s*[-–]\s*(\d{2}:\d{2})\s*$/;

function dialogHtml() {
  const days = WEEKDAYS.map((day) => `
      <label class="hours-row"><span data-i18n="day.${day}"></span>
        <input type="text" id="hours-${day}" inputmode="numeric" autocomplete="off" placeholder="09:00-17:00" aria-describedby="hours-help"></label>`).join("");
  return `
  <dialog id="settings" aria-labelledby="settings-title">
    <form id="settings-form" method="dialog" novalidate>
      <h2 id="settings-title" data-i18n="settings.title"></h2>
      <label class="field"><span data-i18n="settings.timezone"></span>
        <input type="text" id="settings-tz" list="settings-zones" autocomplete="off" required></label>
      <datalist id="settings-zones"></datalist>
      <fieldset class="hours">
        <legend data-i18n="settings.hours"></legend>
        <p id="hours-help" class="muted" data-i18n="settings.hours_help"></p>
        ${days}
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
  try {
    await putJson("/v1/workspace", { timezone: $("settings-tz").value.trim(), business_hours: parsed.hours });
  } catch (error) {
    const first = error.errors[0];
    showError(first ? t("settings.rejected", { param: first.param, detail: first.message || error.message }) : t("error", { detail: error.message }));
    return;
  }
  $("settings").close();
  page.reload();
}

export async function openSettings(page) {
  if (!$("settings")) build(page);
  I.translatePage(page.state.lang);
  $("settings-error").hidden = true;
  const ws = await getJson("/v1/workspace");
  $("settings-tz").value = ws.timezone;
  for (const day of WEEKDAYS) {
    const spans = (ws.business_hours && ws.business_hours[day]) || [];
    $(`hours-${day}`).value = spans.map(([a, b]) => `${a}-${b}`).join(", ");
  }
  $("settings").showModal();
}
