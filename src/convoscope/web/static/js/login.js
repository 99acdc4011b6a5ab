// The sign-in page: posts to /login, then opens the page the user came from (this site only).
import { safeNext } from "./api.js";
import { pickLanguage, t, translatePage } from "./i18n.js";

const lang = pickLanguage();
translatePage(lang);
const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const response = await fetch("/login", { method: "POST", body: new URLSearchParams(new FormData(form)) });
  if (response.ok) {
    location.assign(safeNext(new URLSearchParams(location.search).get("next")));
    return;
  }
  error.textContent = t(lang, response.status === 429 || response.status === 503 ? "login.throttled" : "login.failed");
  error.hidden = false;
});
