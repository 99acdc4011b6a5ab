// Translations and locale formatting for the pages (English and French).
// Labels follow the vendor's pages: the French ones are those of its help centre.
const STRINGS = {
  en: {
    title: "Conversation overview",
    logout: "Sign out",
    filters: "Filters",
    period: "Period",
    "period.today": "Today",
    "period.yesterday": "Yesterday",
    "period.last_7_days": "Last 7 days",
    "period.last_30_days": "Last 30 days",
    "period.this_month": "This month",
    "period.last_month": "Last month",
    "range.from": "From",
    "range.to": "To",
    "range.apply": "Apply",
    "channels.label": "Channels",
    "channels.summary": "Channels: {list}",
    "channels.all": "All channels",
    "channels.none": "No channel has data yet",
    timezone: "Time zone: {tz}",
    tiles: "Key figures",
    "tile.duration": "AVERAGE CONVERSATION DURATION",
    "tile.total": "TOTAL CONVERSATIONS",
    "tile.engaged": "ENGAGED CONVERSATIONS",
    "tile.customers": "UNIQUE CUSTOMERS",
    "tile.split": "Teammates {teammate} · Chatbot {chatbot}",
    "tile.previous": "{change} vs previous period ({previous})",
    "tile.no_previous": "No data in the previous period",
    "tip.duration": "Mean time from the first to the last event of engaged conversations started in the period, overall and by who handled them.",
    "tip.total": "Conversations started in the period. A new conversation starts when a customer writes after 10 minutes of inactivity with the chatbot, or after a teammate closed the previous one.",
    "tip.engaged": "Conversations in which the customer answered beyond the chatbot's welcome message.",
    "tip.customers": "Distinct customers who had a conversation in the period.",
    "chart.engagement": "Number of conversations by engagement type",
    "chart.messages": "Number of messages",
    "chart.traffic": "Conversation traffic",
    "chart.departments": "Closed conversations by department",
    "chart.support": "Handled conversations by type of support",
    "series.engaged": "Engaged",
    "series.non_engaged": "Not engaged",
    "series.teammate": "Teammates",
    "series.chatbot": "Chatbot",
    "series.customer": "Customers",
    "series.closed": "Closed conversations",
    "traffic.transfer_requests": "Transfer requests",
    "traffic.engaged_conversations": "Engaged conversations",
    "support.engaged": "Engaged only",
    "support.all": "All",
    export: "Export department report",
    no_department: "No department",
    show_table: "Show the values as a table",
    bucket: "Period",
    department: "Department",
    support_type: "Type of support",
    conversations: "Conversations",
    empty: "No conversations in this period",
    loading: "Loading…",
    updated: "Overview updated",
    error: "The overview could not be loaded ({detail}).",
    retry: "Retry",
    "week.of": "Week of {date}",
    "alt.series": "{title}: {summary}",
    "login.email": "Email",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.failed": "Wrong email or password.",
    "login.throttled": "Too many failed attempts. Try again in a few minutes.",
    "channels.select_all": "All channels",
    "channels.clear": "Clear",
    "channels.pick": "Pick at least one channel",
    "range.invalid": "The first day must be on or before the last day.",
    "param.invalid": "This link has an invalid value for “{param}”.",
    in_progress: "still in progress",
    "chart.in_progress": "The last bar is still in progress.",
    "chart.no_closed": "No closed conversations in this period",
    "chart.no_conversations": "No conversations",
    forbidden: "Analytics are for workspace admins.",
  },
  fr: {
    title: "Aperçu des conversations",
    logout: "Se déconnecter",
    filters: "Filtres",
    period: "Période",
    "period.today": "Aujourd’hui",
    "period.yesterday": "Hier",
    "period.last_7_days": "7 derniers jours",
    "period.last_30_days": "30 derniers jours",
    "period.this_month": "Ce mois-ci",
    "period.last_month": "Le mois dernier",
    "range.from": "Du",
    "range.to": "Au",
    "range.apply": "Appliquer",
    "channels.label": "Canaux",
    "channels.summary": "Canaux : {list}",
    "channels.all": "Tous les canaux",
    "channels.none": "Aucun canal n’a encore de données",
    timezone: "Fuseau horaire : {tz}",
    tiles: "Chiffres clés",
    "tile.duration": "DURÉE MOYENNE DES CONVERSATIONS",
    "tile.total": "CONVERSATIONS TOTALES",
    "tile.engaged": "CONVERSATIONS ENGAGÉES",
    "tile.customers": "CLIENTS UNIQUES",
    "tile.split": "Agents {teammate} · Chatbot {chatbot}",
    "tile.previous": "{change} par rapport à la période précédente ({previous})",
    "tile.no_previous": "Aucune donnée sur la période précédente",
    "tip.duration": "Durée moyenne entre le premier et le dernier événement des conversations engagées commencées dans la période, au total et selon qui les a traitées.",
    "tip.total": "Conversations commencées dans la période. Une conversation est comptée quand un client interagit avec le chatbot après 10 minutes d’inactivité, ou rouvre la conversation après qu’un agent l’a fermée.",
    "tip.engaged": "Conversations auxquelles le client a participé au-delà du message de bienvenue.",
    "tip.customers": "Nombre de clients individuels ayant eu une conversation dans la période.",
    "chart.engagement": "Nombre de conversations par type d’engagement",
    "chart.messages": "Nombre de messages",
    "chart.traffic": "Demandes de transfert et conversations actives",
    "chart.departments": "Conversations fermées par département",
    "chart.support": "Conversations traitées par type d’assistance",
    "series.engaged": "Engagées",
    "series.non_engaged": "Non engagées",
    "series.teammate": "Agents",
    "series.chatbot": "Chatbot",
    "series.customer": "Clients",
    "series.closed": "Conversations fermées",
    "traffic.transfer_requests": "Demandes de transfert",
    "traffic.engaged_conversations": "Conversations actives",
    "support.engaged": "Conversations actives seulement",
    "support.all": "Toutes",
    export: "Exporter le rapport des départements",
    no_department: "Aucun département",
    show_table: "Afficher les valeurs dans un tableau",
    bucket: "Période",
    department: "Département",
    support_type: "Type d’assistance",
    conversations: "Conversations",
    empty: "Aucune conversation dans cette période",
    loading: "Chargement…",
    updated: "Aperçu mis à jour",
    error: "L’aperçu n’a pas pu être chargé ({detail}).",
    retry: "Réessayer",
    "week.of": "Semaine du {date}",
    "alt.series": "{title} : {summary}",
    "login.email": "Courriel",
    "login.password": "Mot de passe",
    "login.submit": "Se connecter",
    "login.failed": "Courriel ou mot de passe incorrect.",
    "login.throttled": "Trop de tentatives échouées. Réessayez dans quelques minutes.",
    "channels.select_all": "Tous les canaux",
    "channels.clear": "Effacer",
    "channels.pick": "Choisissez au moins un canal",
    "range.invalid": "Le premier jour doit précéder le dernier jour ou lui être égal.",
    "param.invalid": "Ce lien contient une valeur invalide pour « {param} ».",
    in_progress: "en cours",
    "chart.in_progress": "La dernière barre est encore en cours.",
    "chart.no_closed": "Aucune conversation fermée dans cette période",
    "chart.no_conversations": "Aucune conversation",
    forbidden: "Les analytiques sont réservées aux administrateurs de l’espace.",
  },
};
const CHANNELS = {
  web_chat: { en: "Web chat", fr: "Clavardage web", color: "#2563eb" },
  messenger: { en: "Messenger", fr: "Messenger", color: "#7c3aed" },
  instagram: { en: "Instagram", fr: "Instagram", color: "#db2777" },
  whatsapp: { en: "WhatsApp", fr: "WhatsApp", color: "#059669" },
  google_business_messages: { en: "Google Business Messages", fr: "Google Business Messages", color: "#d97706" },
  email: { en: "Email", fr: "Courriel", color: "#475569" },
  video: { en: "Video", fr: "Vidéo", color: "#0891b2" },
  sms: { en: "SMS", fr: "SMS", color: "#65a30d" },
};
const LOCALES = { en: "en-CA", fr: "fr-CA" };

export function t(lang, key, vars) {
  const text = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? vars[name] : `{${name}}`));
}

export function pickLanguage() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl in STRINGS) return fromUrl;
  const saved = localStorage.getItem("convoscope.lang");
  if (saved in STRINGS) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

export function translatePage(lang) {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(lang, el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-label]").forEach((el) => { el.setAttribute("aria-label", t(lang, el.dataset.i18nLabel)); });
}

export const number = (lang, n) => new Intl.NumberFormat(LOCALES[lang]).format(n);
export const percent = (lang, ratio) => new Intl.NumberFormat(LOCALES[lang], {
  style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero",
}).format(ratio);

export function duration(lang, seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  if (h) return `${number(lang, h)} h ${m} min`;
  return m ? `${m} min ${s} s` : `${s} s`;
}

// A bucket label (ISO local time with offset) shown in the workspace's zone, for the granularity.
export function bucketLabel(lang, iso, granularity, timeZone) {
  const date = new Date(iso);
  const fmt = (options) => new Intl.DateTimeFormat(LOCALES[lang], { timeZone, ...options }).format(date);
  if (granularity === "hour") return fmt({ hour: "numeric" });
  if (granularity === "day") return fmt({ weekday: "short", day: "numeric", month: "short" });
  if (granularity === "week") return t(lang, "week.of", { date: fmt({ day: "numeric", month: "short" }) });
  return fmt({ month: "long", year: "numeric" });
}

export function channelName(lang, slug) {
  return CHANNELS[slug] ? CHANNELS[slug][lang] : slug.replace(/_/g, " ");
}

export const channelColor = (slug) => (CHANNELS[slug] ? CHANNELS[slug].color : "#64748b");

// For the console and the browser tests.
window.convoscopeI18n = { t, pickLanguage, translatePage, number, percent, duration, bucketLabel, channelName, channelColor };
