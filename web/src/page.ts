// The playground page: connection and TLS controls, messages, certificate
// checks and the trace view, all driving window.playground like any
// embedder would. Every control maps to an option of playground.connect
// (settings.ts); a failed connect shows its checks, the broker's side of
// the attempt and what the listener's fault is.
import type { Check, Connection, ConnectError, Identity, ListenerInfo, Playground, TraceEvent } from "./playground.d";
import { UPDATE_EVENT, type UpdateDetail } from "./playground";
import { TraceView } from "./traceview";
import { parseHash, writeHash } from "./links";
import { brokerRecording, download, downloadSession, stamp } from "./session";
import { connectOptions, deleteProfile, loadProfiles, readSettings, saveProfile, settingsFromURL, settingsToURL, writeSettings, type Settings } from "./settings";
import { clear, h } from "./dom";

function $<T extends HTMLElement = HTMLElement>(id: string): T | null {
  return document.querySelector<T>(`[data-testid="${id}"]`);
}

function value(id: string): string {
  return $<HTMLInputElement>(id)?.value ?? "";
}

/** What the trace panel shows: a live connection, or what is left of a failed one. */
interface Shown {
  listener: string;
  trace(): TraceEvent[];
  checks(): Check[];
  /** Fetches the broker's side again; the panel refreshes from trace(). */
  refresh(): Promise<unknown>;
  conn?: Connection;
}

function live(c: Connection): Shown {
  return { listener: c.listener, trace: () => c.trace(), checks: () => c.checks(), refresh: () => c.brokerTrace().catch(() => []), conn: c };
}

/** A failed connect: the client's events up to the failure, and the
 * broker's side of the same attempt once fetched. */
function failed(err: ConnectError, listener: string): Shown {
  let broker: TraceEvent[] = [];
  const client = err.trace ?? [];
  return {
    listener,
    trace: () => [...client, ...broker],
    checks: () => err.checks ?? [],
    refresh: async () => {
      if (err.brokerTrace && err.brokerKey) broker = await err.brokerTrace().catch(() => broker);
    },
  };
}

export function mountPage(pg: Playground): void {
  const traceRoot = $("trace");
  if (!traceRoot || !$("status")) return; // embedded use: no page UI
  const view = new TraceView(traceRoot, { onSelect: (t) => writeHash(t) });
  const status = $("status")!;
  const messages = $("messages")!;
  const checks = $("checks")!;
  const faultBox = $("fault")!;
  const note = $("conn-note")!;
  const offer = $("mtls-offer")!;
  const listenerFault = $("listener-fault")!;
  let current: Connection | undefined;
  let shown: Shown | undefined;
  let refreshUntil = 0;
  let listeners: ListenerInfo[] = [];
  /** Identities kept in this browser and made in this page, by name. */
  const identities = new Map<string, Identity>();
  const defaults = readSettings();

  const setStatus = (text: string, kind: "ok" | "bad" | "busy" = "ok") => {
    status.textContent = text;
    status.className = `status ${kind}`;
  };
  const listenerInfo = (name: string) => listeners.find((l) => l.name === name);

  const pcapButton = h("button", { type: "button", "data-testid": "download-pcapng", hidden: true, title: "the connection as a capture file for Wireshark, with its TLS keys" }, "Download .pcapng");
  const exportButton = h("button", { type: "button", "data-testid": "export-session", hidden: true, title: "both ends' raw recordings, for /replay" }, "Export session JSON");
  view.toolbar.append(pcapButton, exportButton);
  const show = (s: Shown | undefined) => {
    shown = s;
    view.update(s?.trace() ?? []);
    renderChecks(checks, s?.checks() ?? []);
    pcapButton.hidden = exportButton.hidden = !s?.conn;
  };
  // Deep links: #event=client-5&field=random selects as soon as the event exists.
  const followHash = () => view.show(parseHash());
  followHash();
  window.addEventListener("hashchange", followHash);
  window.addEventListener(UPDATE_EVENT, (e) => {
    // Connections made through the API (an embedder's, a console's) show too.
    const c = (e as CustomEvent<UpdateDetail>).detail.conn;
    show(shown?.conn === c ? shown : live(c));
  });
  setInterval(() => {
    if (!shown) return;
    // A failed attempt: the broker's side may come in a little later.
    if (!shown.conn && Date.now() < refreshUntil) shown.refresh().then(() => view.update(shown?.trace() ?? []));
    view.update(shown.trace());
  }, 1500);

  // ---- settings: the form, the address bar and saved connections ----

  const settings = (): Settings => readSettings();
  const syncForm = () => {
    const s = settings();
    const l = listenerInfo(s.listener);
    $("tls-ca-pem")!.hidden = s.trust !== "pem";
    $("tls-paste")!.hidden = s.identity !== "paste";
    $("tls-skip-warning")!.hidden = s.skip !== "1";
    $("tls")!.classList.toggle("off", !!l && !l.tls);
    // The offer of a certificate stands until one is chosen or the listener changes.
    if (!l?.mtls || s.identity) offer.hidden = true;
    const f = l?.fault;
    listenerFault.hidden = !f;
    if (f) {
      clear(listenerFault);
      listenerFault.append(h("b", {}, `Lesson listener, on purpose: ${f.what}. `), f.meets);
    }
    settingsToURL(s, defaults);
  };
  document.querySelectorAll("[data-setting]").forEach((c) => c.addEventListener("change", syncForm));
  document.querySelectorAll("input[data-setting], textarea[data-setting]").forEach((c) => c.addEventListener("input", syncForm));

  const profileSelect = $<HTMLSelectElement>("profile")!;
  const fillProfiles = (pick = "") => {
    clear(profileSelect);
    profileSelect.append(h("option", { value: "" }, "(none)"));
    for (const name of Object.keys(loadProfiles()).sort()) profileSelect.append(h("option", { value: name, selected: name === pick }, name));
  };
  fillProfiles();
  profileSelect.addEventListener("change", () => {
    const p = loadProfiles()[profileSelect.value];
    if (!p) return;
    writeSettings(p);
    ($("profile-name") as HTMLInputElement).value = profileSelect.value;
    syncForm();
    setStatus(`Settings of “${profileSelect.value}” loaded${p.identity && p.identity !== "paste" && !identities.has(p.identity) ? `; its identity “${p.identity}” is not kept in this browser` : ""}.`);
  });
  $("profile-save")?.addEventListener("click", () => {
    const name = value("profile-name").trim() || `${settings().listener || "mqtts"} ${new Date().toLocaleTimeString()}`;
    saveProfile(name, settings());
    fillProfiles(name);
    setStatus(`Saved “${name}” in this browser (without password or private key).`);
  });
  $("profile-delete")?.addEventListener("click", () => {
    const name = profileSelect.value;
    if (!name) return;
    deleteProfile(name);
    fillProfiles();
    setStatus(`Forgot “${name}”.`);
  });

  // ---- identities (client certificates for mtls) ----

  const identitySelect = $<HTMLSelectElement>("tls-identity")!;
  const fillIdentities = (pick?: string) => {
    const keep = pick ?? identitySelect.value;
    clear(identitySelect);
    identitySelect.append(h("option", { value: "" }, "none"));
    for (const [name, id] of [...identities].sort(([a], [b]) => a.localeCompare(b))) {
      identitySelect.append(h("option", { value: name }, `${name} (until ${id.notAfter.slice(0, 10)})`));
    }
    identitySelect.append(h("option", { value: "paste" }, "paste a certificate and key…"));
    identitySelect.value = [...identitySelect.options].some((o) => o.value === keep) ? keep : "";
    syncForm();
  };
  const createIdentity = async (): Promise<Identity> => {
    const name = value("identity-name").trim() || `browser-${Math.random().toString(16).slice(2, 8)}`;
    setStatus(`Making a key pair for “${name}” in this page and asking the playground CA to sign it…`, "busy");
    const id = await pg.createIdentity(name);
    identities.set(id.name, id);
    await pg.saveIdentity(id.id).catch(() => {});
    fillIdentities(id.name);
    setStatus(`Created “${id.name}”: an ECDSA P-256 key made in this page (it never left it) and a certificate from the playground CA, valid until ${id.notAfter.slice(0, 10)}. Kept in this browser.`);
    return id;
  };
  $("identity-create")?.addEventListener("click", () => act(createIdentity));

  // ---- start-up ----

  const fromURL = settingsFromURL();
  writeSettings(fromURL);
  pg.ready.then(
    () => {
      setStatus("Go wasm client loaded: press Connect, or Run the demo.");
      pg.savedIdentities().then(
        (ids) => {
          for (const id of ids) identities.set(id.name, id);
          fillIdentities(fromURL.identity);
        },
        () => {},
      );
    },
    (e: Error) => setStatus(e.message, "bad"),
  );
  pg.listeners().then((ls) => {
    listeners = ls;
    const sel = $<HTMLSelectElement>("listener");
    if (!sel) return;
    const want = fromURL.listener ?? sel.value ?? "mqtts";
    clear(sel);
    for (const l of ls.filter((l) => l.tunnel)) {
      sel.append(h("option", { value: l.name, selected: l.name === want }, `${l.name}${l.addr ? ` (${l.addr})` : ""}${l.lesson ? " – lesson" : ""}`));
    }
    syncForm();
  });

  // ---- connecting ----

  const logMessage = (topic: string, payload: string) => {
    messages.prepend(h("li", { "data-testid": "message" }, h("code", {}, topic), " ", payload));
  };

  const receive = async (c: Connection) => {
    while (current === c) {
      try {
        const m = await c.nextMessage(60000);
        logMessage(m.topic, m.payload);
      } catch (e) {
        if (current !== c || !/timeout/.test(String(e))) break;
      }
    }
  };

  const showFault = (listener: string, failedNow: boolean) => {
    const f = listenerInfo(listener)?.fault;
    faultBox.hidden = !f || !failedNow;
    clear(faultBox);
    if (f && failedNow) {
      faultBox.append(
        h("p", {}, h("b", {}, `What is wrong with “${listener}”, on purpose: ${f.what}. `), f.meets),
        h("p", {}, h("b", {}, "On a real broker: "), f.advice),
      );
    }
  };

  /** Says what a successful connection did that needs saying. */
  const explainConnected = (c: Connection, l: ListenerInfo | undefined, s: Settings) => {
    const info = c.tlsInfo();
    note.hidden = true;
    if (!info) return;
    if (info.resumed && l?.mtls) {
      note.hidden = false;
      note.textContent =
        `This handshake resumed an earlier session (${info.version}), so no client certificate was sent: the broker took the one of the session that made the ticket` +
        `${s.identity ? "" : ", which is why it succeeded with none chosen"}. It still checks that certificate against its revocation list on every handshake; to be asked for a certificate again, turn “Resume” off.`;
    } else if (s.skip === "1") {
      note.hidden = false;
      note.textContent = "Verification was skipped: the checks above show what the client would have refused.";
    }
  };

  const connect = async (opts: { withoutIdentity?: boolean } = {}): Promise<Connection | undefined> => {
    if (current) await disconnect();
    const s = settings();
    const l = listenerInfo(s.listener);
    const id = s.identity && s.identity !== "paste" ? identities.get(s.identity) : undefined;
    if (l?.mtls && !id && s.identity !== "paste" && !opts.withoutIdentity) {
      // Offer a certificate rather than fail for want of one.
      offer.hidden = false;
      $("offer-create")?.focus();
      setStatus(`The ${l.name} listener asks for a client certificate: create one, pick a saved one in the TLS panel, or connect without one to see the broker refuse.`, "busy");
      return undefined;
    }
    offer.hidden = true;
    showFault(s.listener, false);
    note.hidden = true;
    setStatus("Connecting: TLS handshake inside your browser…", "busy");
    const t0 = performance.now();
    try {
      const c = await pg.connect(connectOptions(s, value("password"), id?.id, value("tls-key-pem")));
      current = c;
      show(live(c));
      const info = c.tlsInfo();
      const ms = (performance.now() - t0).toFixed(0);
      setStatus(
        info
          ? `Connected to ${c.listener} in ${ms} ms (tunnel, handshake and CONNECT): ${info.version}, ${info.cipherSuite}${info.group ? `, ${info.group}` : ""}${info.resumed ? ", resumed" : ""}`
          : `Connected to ${c.listener} in ${ms} ms without TLS: everything travels in clear.`,
      );
      explainConnected(c, l, s);
      return c;
    } catch (e) {
      const err = e as ConnectError;
      setStatus(err.message, "bad");
      showFault(s.listener, true);
      const f = failed(err, s.listener);
      show(f);
      // The broker's side of the attempt: now, and again for a few seconds.
      refreshUntil = Date.now() + 8000;
      f.refresh().then(() => shown === f && show(f));
      return undefined;
    }
  };
  const disconnect = async () => {
    const c = current;
    current = undefined;
    if (c) await c.close().catch(() => {});
    setStatus("Disconnected.");
  };
  const act = async (what: () => Promise<unknown>) => {
    try {
      await what();
    } catch (e) {
      setStatus((e as Error).message, "bad");
    }
  };

  pcapButton.addEventListener("click", () =>
    act(async () => {
      const c = shown?.conn;
      if (!c) throw new Error("this connection cannot be saved as pcapng");
      download(`mqtts-${c.listener}-${stamp()}.pcapng`, c.pcapng(), "application/x-pcapng");
    }),
  );
  exportButton.addEventListener("click", () =>
    act(async () => {
      const c = shown?.conn;
      if (!c) throw new Error("connect first");
      const client = c.recording();
      const broker = await brokerRecording(c.brokerKey());
      // The broker gives its TLS secrets to the instructor only; both ends
      // derive the same ones, so our own key log decrypts its side too.
      if (broker && !broker.keylog && client.keylog) broker.keylog = client.keylog;
      downloadSession({ client, broker }, `mqtts-session-${stamp()}`);
      setStatus(broker ? "Saved both ends' recordings: open the file at /replay to see them again." : "Saved the client's recording; the broker no longer has its side of this connection.");
    }),
  );

  $("connect")?.addEventListener("click", () => act(() => connect()));
  $("offer-create")?.addEventListener("click", () =>
    act(async () => {
      await createIdentity();
      await connect();
    }),
  );
  $("offer-without")?.addEventListener("click", () => act(() => connect({ withoutIdentity: true })));
  $("disconnect")?.addEventListener("click", () => act(disconnect));
  $("subscribe")?.addEventListener("click", () =>
    act(async () => {
      if (!current) throw new Error("connect first");
      const c = current;
      const filter = value("filter") || "x/#";
      const q = await c.subscribe(filter, 1);
      setStatus(`Subscribed to ${filter} (granted QoS ${q}).`);
      receive(c);
    }),
  );
  $("publish")?.addEventListener("click", () =>
    act(async () => {
      if (!current) throw new Error("connect first");
      await current.publish(value("topic") || "x/hello", value("payload"), { qos: 1 });
      setStatus("Published.");
    }),
  );
  $("demo")?.addEventListener("click", () =>
    act(async () => {
      const c = await connect();
      if (!c) return;
      const filter = value("filter") || "x/#";
      await c.subscribe(filter, 1);
      await c.publish(value("topic") || "x/hello", value("payload") || "hello from the browser", { qos: 1 });
      receive(c);
      setStatus(`Demo done: connected over ${c.tlsInfo()?.version ?? "plain TCP"}, subscribed to ${filter}, published. Click the events of the trace.`);
    }),
  );
}

function renderChecks(el: HTMLElement, cs: Check[]): void {
  clear(el);
  if (!cs.length) el.append(h("li", { class: "hint" }, "None: no certificate was checked."));
  for (const c of cs) {
    el.append(h("li", { class: c.ok ? "ok" : "bad", "data-testid": "check", "data-ok": String(c.ok) }, h("b", {}, `${c.ok ? "✔" : "✘"} ${c.step}`), " ", c.detail));
  }
}
