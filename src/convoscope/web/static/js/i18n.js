// Translations and locale formatting for the pages (English and French).
// Labels follow the vendor's pages: the French ones are those of its help centre.
const STRINGS = {
  en: {
    title: "Conversation overview",
    logout: "Sign out",
    filters: "Filters",
    "filters.folded": "Filters: {period}",
    "filters.reset": "Reset the filters",
    "filters.folded_some": "Filters: {period} · {n} more",
    period: "Period",
    "period.today": "Today",
    "period.yesterday": "Yesterday",
    "period.last_7_days": "Last 7 days",
    "period.last_30_days": "Last 30 days",
    "period.this_month": "This month",
    "period.last_month": "Last month",
    "period.custom": "Custom range…",
    "range.from": "From",
    "range.to": "To",
    "range.apply": "Apply",
    "channels.label": "Channels",
    "channels.summary": "Channels: {list}",
    "channels.all": "All channels",
    "channels.none": "No channel has data yet",
    timezone: "Time zone: {tz}",
    tiles: "Key figures",
    "tile.previous": "{change} vs previous period ({previous})",
    "tile.no_previous": "No data in the previous period",
    "tile.points": "{points} pts",
    "tile.spread": "Median {median} · 90th percentile {p90}",
    "tile.surveys": "{count} surveys",
    "tile.out_of_5": "{score} / 5",
    "sort.by": "Sort by {column}",
    "csat.points": "Scale",
    "csat.5": "5 points", "csat.3": "3 points", "csat.2": "2 points",
    "csat.positive": "Positive (4-5)", "csat.neutral": "Neutral (3)", "csat.negative_3": "Negative (1-2)", "csat.negative_2": "Negative (1-3)",
    "csat.score": "Score {score}",
    "chart.no_surveys": "No surveys in this period",
    surveys: "Surveys",
    score: "Score",
    export: "Export department report",
    no_department: "No department",
    show_table: "Show the values as a table",
    bucket: "Period",
    department: "Department",
    conversations: "Conversations",
    empty: "No conversations in this period",
    loading: "Loading…",
    updated: "Figures updated",
    error: "The figures could not be loaded ({detail}).",
    retry: "Retry",
    "week.of": "Week of {date}",
    "alt.series": "{title}: {summary}",
    "login.email": "Email",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.failed": "Wrong email or password.",
    "login.throttled": "Too many failed attempts. Try again in a few minutes.",
    "channels.select_all": "All channels",
    "channels.pick": "Pick at least one channel",
    "range.invalid": "The first day must be on or before the last day.",
    "param.invalid": "This link has an invalid value for “{param}”.",
    in_progress: "still in progress",
    "chart.in_progress": "* still in progress: the last bucket is drawn lighter.",
    forbidden: "Analytics are for workspace admins.",
    nav: "Pages",
    search: "Search…",
    clear: "Clear",
    "channels.search": "Search channels",
    "departments.label": "Departments",
    "departments.summary": "Departments: {list}",
    "departments.all": "All departments",
    "departments.none": "No department yet",
    "departments.select_all": "All departments",
    "departments.pick": "Pick at least one department",
    "departments.search": "Search departments",
    "teammates.label": "Teammates",
    "teammates.summary": "Teammates: {list}",
    "teammates.all": "All teammates",
    "teammates.none": "No teammate yet",
    "teammates.select_all": "All teammates",
    "teammates.pick": "Pick at least one teammate",
    "teammates.search": "Search teammates",
    "settings.open": "Settings",
    "workspace.switch": "Workspace",
    "settings.title": "Workspace settings",
    "settings.timezone": "Time zone",
    "settings.hours": "Business hours",
    "settings.closed": "Closed",
    "settings.always_open": "Open 24 hours (no hours set)",
    "settings.hours_help": "Spans in the workspace's time zone, e.g. 09:00-12:00, 13:00-17:30 (24:00 allowed as an end). A day left empty is closed; every day empty means 24/7.",
    "settings.save": "Save",
    "settings.cancel": "Cancel",
    "settings.bad_span": "{day}: “{text}” is not a span like 09:00-17:00.",
    "settings.rejected": "Not saved: {param}: {detail}",
    "settings.flows": "Flow types",
    "settings.flows_help": "The type of each chatbot flow on Chatbot Performance. A type chosen here applies to every period, past ones included.",
    "settings.flow_as_sent": "As the chatbot says",
    "settings.no_flows": "The chatbot has named no flow yet.",
    "settings.window": "Attribution window (days)",
    "settings.window_help": "Sales Attribution credits an order to a conversation whose last message came at most this many days before it.",
    "settings.bad_window": "The attribution window is a whole number of days from 1 to 365.",
    "flow_type.campaign": "Campaign",
    "flow_type.transfer": "Transfer",
    "flow_type.sales": "Sales",
    "flow_type.support": "Support",
    "flow_type.other": "Other",
    no_flow: "No flow",
    "flow_types.label": "Flow types",
    "flow_types.summary": "Flow types: {list}",
    "flow_types.all": "All flow types",
    "flow_types.none": "No flow type",
    "flow_types.select_all": "All flow types",
    "flow_types.pick": "Pick at least one flow type",
    "flow_types.search": "Search flow types",
    "flows.label": "Flows",
    "flows.summary": "Flows: {list}",
    "flows.all": "All flows",
    "flows.none": "No flow yet",
    "flows.select_all": "All flows",
    "flows.pick": "Pick at least one flow",
    "flows.search": "Search flows",
    "day.monday": "Monday", "day.tuesday": "Tuesday", "day.wednesday": "Wednesday", "day.thursday": "Thursday",
    "day.friday": "Friday", "day.saturday": "Saturday", "day.sunday": "Sunday",
  },
  fr: {
    title: "Aperçu des conversations",
    logout: "Se déconnecter",
    filters: "Filtres",
    "filters.folded": "Filtres : {period}",
    "filters.reset": "Réinitialiser les filtres",
    "filters.folded_some": "Filtres : {period} · {n} de plus",
    period: "Période",
    "period.today": "Aujourd’hui",
    "period.yesterday": "Hier",
    "period.last_7_days": "7 derniers jours",
    "period.last_30_days": "30 derniers jours",
    "period.this_month": "Ce mois-ci",
    "period.last_month": "Le mois dernier",
    "period.custom": "Période personnalisée…",
    "range.from": "Du",
    "range.to": "Au",
    "range.apply": "Appliquer",
    "channels.label": "Canaux",
    "channels.summary": "Canaux : {list}",
    "channels.all": "Tous les canaux",
    "channels.none": "Aucun canal n’a encore de données",
    timezone: "Fuseau horaire : {tz}",
    tiles: "Chiffres clés",
    "tile.previous": "{change} par rapport à la période précédente ({previous})",
    "tile.no_previous": "Aucune donnée sur la période précédente",
    "tile.points": "{points} pts",
    "tile.spread": "Médiane {median} · 90e centile {p90}",
    "tile.surveys": "{count} sondages",
    "tile.out_of_5": "{score} / 5",
    "sort.by": "Trier par {column}",
    "csat.points": "Échelle",
    "csat.5": "5 points", "csat.3": "3 points", "csat.2": "2 points",
    "csat.positive": "Positif (4-5)", "csat.neutral": "Neutre (3)", "csat.negative_3": "Négatif (1-2)", "csat.negative_2": "Négatif (1-3)",
    "csat.score": "Note {score}",
    "chart.no_surveys": "Aucun sondage dans cette période",
    surveys: "Sondages",
    score: "Note",
    export: "Exporter le rapport des départements",
    no_department: "Aucun département",
    show_table: "Afficher les valeurs dans un tableau",
    bucket: "Période",
    department: "Département",
    conversations: "Conversations",
    empty: "Aucune conversation dans cette période",
    loading: "Chargement…",
    updated: "Chiffres mis à jour",
    error: "Les chiffres n’ont pas pu être chargés ({detail}).",
    retry: "Réessayer",
    "week.of": "Semaine du {date}",
    "alt.series": "{title} : {summary}",
    "login.email": "Courriel",
    "login.password": "Mot de passe",
    "login.submit": "Se connecter",
    "login.failed": "Courriel ou mot de passe incorrect.",
    "login.throttled": "Trop de tentatives échouées. Réessayez dans quelques minutes.",
    "channels.select_all": "Tous les canaux",
    "channels.pick": "Choisissez au moins un canal",
    "range.invalid": "Le premier jour doit précéder le dernier jour ou lui être égal.",
    "param.invalid": "Ce lien contient une valeur invalide pour « {param} ».",
    in_progress: "en cours",
    "chart.in_progress": "* encore en cours : la dernière période est dessinée plus claire.",
    forbidden: "Les analytiques sont réservées aux administrateurs de l’espace.",
    nav: "Pages",
    search: "Rechercher…",
    clear: "Effacer",
    "channels.search": "Rechercher un canal",
    "departments.label": "Départements",
    "departments.summary": "Départements : {list}",
    "departments.all": "Tous les départements",
    "departments.none": "Aucun département pour l’instant",
    "departments.select_all": "Tous les départements",
    "departments.pick": "Choisissez au moins un département",
    "departments.search": "Rechercher un département",
    "teammates.label": "Agents",
    "teammates.summary": "Agents : {list}",
    "teammates.all": "Tous les agents",
    "teammates.none": "Aucun agent pour l’instant",
    "teammates.select_all": "Tous les agents",
    "teammates.pick": "Choisissez au moins un agent",
    "teammates.search": "Rechercher un agent",
    "settings.open": "Paramètres",
    "workspace.switch": "Espace de travail",
    "settings.title": "Paramètres de l’espace",
    "settings.timezone": "Fuseau horaire",
    "settings.hours": "Heures d’ouverture",
    "settings.closed": "Fermé",
    "settings.always_open": "Ouvert 24 h sur 24 (aucun horaire)",
    "settings.hours_help": "Plages dans le fuseau de l’espace, p. ex. 09:00-12:00, 13:00-17:30 (24:00 permis comme fin). Un jour vide est fermé ; tous les jours vides : 24 h sur 24, 7 jours sur 7.",
    "settings.save": "Enregistrer",
    "settings.cancel": "Annuler",
    "settings.bad_span": "{day} : « {text} » n’est pas une plage comme 09:00-17:00.",
    "settings.rejected": "Non enregistré : {param} : {detail}",
    "settings.flows": "Types de flux",
    "settings.flows_help": "Le type de chaque flux du chatbot dans Performance du chatbot. Un type choisi ici s’applique à toutes les périodes, passées comprises.",
    "settings.flow_as_sent": "Selon le chatbot",
    "settings.no_flows": "Le chatbot n’a encore nommé aucun flux.",
    "settings.window": "Fenêtre d’attribution (jours)",
    "settings.window_help": "L’attribution des ventes crédite une commande à une conversation dont le dernier message date d’au plus ce nombre de jours.",
    "settings.bad_window": "La fenêtre d’attribution est un nombre entier de jours, de 1 à 365.",
    "flow_type.campaign": "Campagne",
    "flow_type.transfer": "Transfert",
    "flow_type.sales": "Ventes",
    "flow_type.support": "Support",
    "flow_type.other": "Autre",
    no_flow: "Aucun flux",
    "flow_types.label": "Types de flux",
    "flow_types.summary": "Types de flux : {list}",
    "flow_types.all": "Tous les types de flux",
    "flow_types.none": "Aucun type de flux",
    "flow_types.select_all": "Tous les types de flux",
    "flow_types.pick": "Choisissez au moins un type de flux",
    "flow_types.search": "Rechercher un type de flux",
    "flows.label": "Flux",
    "flows.summary": "Flux : {list}",
    "flows.all": "Tous les flux",
    "flows.none": "Aucun flux pour l’instant",
    "flows.select_all": "Tous les flux",
    "flows.pick": "Choisissez au moins un flux",
    "flows.search": "Rechercher un flux",
    "day.monday": "Lundi", "day.tuesday": "Mardi", "day.wednesday": "Mercredi", "day.thursday": "Jeudi",
    "day.friday": "Vendredi", "day.saturday": "Samedi", "day.sunday": "Dimanche",
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
// The pseudo-department of conversations closed without one (or not closed), in filters.
export const NO_DEPARTMENT = "(none)";
export const NO_FLOW = "(none)";
export const FLOW_TYPES = ["campaign", "transfer", "sales", "support", "other"];

// A page's own strings ({en: {...}, fr: {...}}), added to the shared ones (`startPage`).
export function addStrings(more) {
  for (const lang of Object.keys(STRINGS)) Object.assign(STRINGS[lang], more[lang]);
}

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
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(lang, el.dataset.i18nPlaceholder); });
}

export const number = (lang, n) => new Intl.NumberFormat(LOCALES[lang]).format(n);
export const decimal = (lang, x, digits = 2) => new Intl.NumberFormat(LOCALES[lang], {
  minimumFractionDigits: digits, maximumFractionDigits: digits,
}).format(x);
export const percent = (lang, ratio) => new Intl.NumberFormat(LOCALES[lang], {
  style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero",
}).format(ratio);

// A share (0-1) as a percentage, and a change of shares in percentage points (signed).
export const share = (lang, ratio) => new Intl.NumberFormat(LOCALES[lang], {
  style: "percent", maximumFractionDigits: 1,
}).format(ratio);
export const points = (lang, x) => new Intl.NumberFormat(LOCALES[lang], {
  maximumFractionDigits: Math.abs(x) < 1 ? 2 : 1, signDisplay: "exceptZero",
}).format(x);

export function duration(lang, seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  // no-break spaces: a duration never breaks across lines ("47 min 26" then "s")
  if (h) return `${number(lang, h)}\u00a0h\u00a0${m}\u00a0min`;
  return m ? `${m}\u00a0min\u00a0${s}\u00a0s` : `${s}\u00a0s`;
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
