// The playground page's connection settings: the form's controls marked
// data-setting="key", read into one object, written back, kept in the
// address bar (a link shares them) and in saved connections (profiles in
// localStorage, like an MQTT client app's). Pasted private keys and the
// password stay out of both.
import type { ConnectOptions } from "./playground.d";

/** Everything the controls set, as text (checkboxes as "1" or ""). */
export type Settings = Record<string, string>;

/** The settings a link carries, and the short names it gives them. */
const IN_URL: Record<string, string> = {
  listener: "listener",
  clientId: "id",
  username: "user",
  mqttVersion: "v",
  serverName: "sni",
  trust: "trust",
  skip: "skip",
  identity: "identity",
  minVersion: "min",
  maxVersion: "max",
  groups: "groups",
  resume: "resume",
};

/** Settings kept out of the address bar: long or private. */
const NOT_IN_URL = new Set(["caPEM", "certPEM"]);

/** The groups each choice of the groups control offers, in order. */
const GROUPS: Record<string, string[] | undefined> = {
  "": undefined,
  classic: ["X25519", "P-256"],
  pq: ["X25519MLKEM768"],
  p256: ["P-256"],
};

function controls(root: ParentNode): (HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement)[] {
  return [...root.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("[data-setting]")];
}

/** Reads the controls. */
export function readSettings(root: ParentNode = document): Settings {
  const s: Settings = {};
  for (const c of controls(root)) {
    const k = c.dataset.setting!;
    s[k] = c instanceof HTMLInputElement && c.type === "checkbox" ? (c.checked ? "1" : "") : c.value;
  }
  return s;
}

/** Sets the controls named in s; others keep their values. A select keeps
 * its value when s names an option it lacks (say, an identity not kept in
 * this browser). */
export function writeSettings(s: Settings, root: ParentNode = document): void {
  for (const c of controls(root)) {
    const k = c.dataset.setting!;
    if (!(k in s)) continue;
    if (c instanceof HTMLInputElement && c.type === "checkbox") c.checked = s[k] === "1";
    else if (c instanceof HTMLSelectElement && ![...c.options].some((o) => o.value === s[k])) continue;
    else c.value = s[k];
  }
}

/** The settings a URL's query gives. */
export function settingsFromURL(search: string = location.search): Settings {
  const q = new URLSearchParams(search);
  const s: Settings = {};
  for (const [k, short] of Object.entries(IN_URL)) {
    const v = q.get(short);
    if (v !== null) s[k] = v;
  }
  return s;
}

/** Writes the settings that differ from the defaults into the address bar
 * (keeping the fragment, which names the selected event). */
export function settingsToURL(s: Settings, defaults: Settings): void {
  const q = new URLSearchParams();
  for (const [k, short] of Object.entries(IN_URL)) {
    if (s[k] !== undefined && s[k] !== (defaults[k] ?? "") && !(k === "identity" && s[k] === "paste")) q.set(short, s[k]);
  }
  const search = q.toString() ? `?${q}` : "";
  if (search !== location.search) history.replaceState(history.state, "", location.pathname + search + location.hash);
}

/** The connect options the settings make; caPEM is the CA to trust when
 * trust is "ca" (undefined: the playground's, which playground.connect
 * fetches), identity the handle of the chosen identity, keyPEM a pasted key. */
export function connectOptions(s: Settings, password: string, identity: string | undefined, keyPEM: string): ConnectOptions {
  const tls: NonNullable<ConnectOptions["tls"]> = {};
  if (s.serverName) tls.serverName = s.serverName;
  if (s.trust === "pem") tls.caPEM = s.caPEM ?? "";
  if (s.trust === "none") tls.caPEM = ""; // no CA: nothing to trust (a browser has no system roots)
  if (s.skip === "1") tls.insecureSkipVerify = true;
  if (s.identity === "paste") {
    tls.certPEM = s.certPEM ?? "";
    tls.keyPEM = keyPEM;
  } else if (identity) tls.identity = identity;
  if (s.minVersion) tls.minVersion = s.minVersion;
  if (s.maxVersion) tls.maxVersion = s.maxVersion;
  const groups = GROUPS[s.groups ?? ""];
  if (groups) tls.groups = groups;
  if (s.resume !== "1") tls.resume = false;
  return {
    listener: s.listener || "mqtts",
    clientId: s.clientId || undefined,
    username: s.username || undefined,
    password: password || undefined,
    mqttVersion: s.mqttVersion === "4" ? 4 : 5,
    tls,
  };
}

// ---- saved connections ----

const PROFILES = "mqtts-playground:profiles";

/** The saved connections, by name. */
export function loadProfiles(): Record<string, Settings> {
  try {
    const v = JSON.parse(localStorage.getItem(PROFILES) ?? "{}") as unknown;
    return typeof v === "object" && v !== null ? (v as Record<string, Settings>) : {};
  } catch {
    return {};
  }
}

/** Saves s under name (pasted private keys and passwords are never part of it). */
export function saveProfile(name: string, s: Settings): void {
  const all = loadProfiles();
  const kept: Settings = {};
  for (const [k, v] of Object.entries(s)) if (k in IN_URL || NOT_IN_URL.has(k)) kept[k] = v;
  all[name] = kept;
  localStorage.setItem(PROFILES, JSON.stringify(all));
}

export function deleteProfile(name: string): void {
  const all = loadProfiles();
  delete all[name];
  localStorage.setItem(PROFILES, JSON.stringify(all));
}
