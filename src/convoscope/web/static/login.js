// Sign-in form: posts to /login, then opens the overview (keeping the filters of a shared link).
"use strict";
(function () {
  const lang = window.convoscopeI18n.pickLanguage();
  window.convoscopeI18n.translatePage(lang);
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const response = await fetch("/login", { method: "POST", body: new URLSearchParams(new FormData(form)) });
    if (response.ok) {
      const next = new URLSearchParams(location.search).get("next") || "/";
      location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
      return;
    }
    const key = response.status === 429 ? "login.throttled" : "login.failed";
    error.textContent = window.convoscopeI18n.t(lang, key);
    error.hidden = false;
  });
})();
