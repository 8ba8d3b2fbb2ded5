// The lesson runner: runs a lesson page's steps against the live playground
// (predict, do, look, check, quiz; see lessons/README.md), shows the
// lesson's current connection in a trace view, and keeps the learner's
// progress in localStorage. On the course map it fills in the progress
// marks and runs the review path's quizzes.
import { STEP_DONE_EVENT } from "./embed";
import "./lesson.css";
import type { Connection, ConnectError, Playground, TraceEvent } from "./playground.d";
import type { Block as BlockData, Check as CheckData, Step as StepData, Target } from "./gen/lessons";
import type { LessonData } from "./gen/server";
import { UPDATE_EVENT, type UpdateDetail } from "./playground";
import { TraceView } from "./traceview";
import { reportStep } from "./classfeed";
import { fieldMatches, hex, isRecorded, makeLab, recorded, siteOf, sleep, text } from "./lab";
import type { Lab, Site } from "./scope";
import { backend } from "./backend";

/** What a step marked {server} says in the static build instead of running. */
const NEEDS_SERVER = "This step needs the full playground server (go run ./server): the broker inside this page cannot do it.";

/** What window.lessonRunner offers (the browser tests drive it). */
export interface LessonRunner {
  /** Runs step n's action (its do block, then its checks). */
  runStep(n: number): Promise<{ ok: boolean; error?: string }>;
  /** Chooses answer answerIndex of the step's quiz quizIndex; ok when right. */
  answerQuiz(n: number, quizIndex: number, answerIndex: number): { ok: boolean; error?: string; explanation?: string };
}

declare global {
  interface Window {
    lessonRunner?: LessonRunner;
  }
}

// ---- progress, kept in localStorage ----

export const PROGRESS_KEY = "mqtts-playground:progress";

export interface StepProgress {
  done?: boolean;
  /** Index of the predicted answer. */
  prediction?: number;
  /** Quiz index → index of the last chosen answer. */
  answers?: Record<string, number>;
}

export interface Progress {
  lessons: Record<string, { steps: Record<string, StepProgress> }>;
}

export function loadProgress(): Progress {
  try {
    const p = JSON.parse(localStorage.getItem(PROGRESS_KEY) ?? "") as Progress;
    if (p && typeof p === "object" && p.lessons && typeof p.lessons === "object") return p;
  } catch {
    // none yet, or unreadable: start afresh
  }
  return { lessons: {} };
}

function stepProgress(lesson: string, n: number): StepProgress {
  return loadProgress().lessons[lesson]?.steps[String(n)] ?? {};
}

/** Merges patch into the saved progress of one step (re-reading first, so
 * two open tabs do not undo each other). */
function saveStep(lesson: string, n: number, patch: StepProgress): void {
  const p = loadProgress();
  const l = (p.lessons[lesson] ??= { steps: {} });
  const s = (l.steps[String(n)] ??= {});
  if (patch.answers) s.answers = { ...s.answers, ...patch.answers };
  if (patch.prediction !== undefined) s.prediction = patch.prediction;
  if (patch.done && !s.done) document.dispatchEvent(new CustomEvent(STEP_DONE_EVENT, { detail: { lesson, step: n } }));
  if (patch.done !== undefined) s.done = patch.done;
  try {
    localStorage.setItem(PROGRESS_KEY, JSON.stringify(p));
  } catch {
    // storage full or disabled: progress is not kept, the lesson still runs
  }
}

/** A short id for this browser, for topic names and client ids, so that
 * learners sharing a broker in a workshop do not see each other's messages. */
function learnerID(): string {
  const key = "mqtts-playground:me";
  let me = "";
  try {
    me = localStorage.getItem(key) ?? "";
  } catch {
    // no storage
  }
  if (!/^[a-z0-9]{8}$/.test(me)) {
    const b = crypto.getRandomValues(new Uint8Array(8));
    me = Array.from(b, (x) => "abcdefghijklmnopqrstuvwxyz0123456789"[x % 36]).join("");
    try {
      localStorage.setItem(key, me);
    } catch {
      // no storage
    }
  }
  return me;
}

/** Fills in every progress mark on the page. */
function renderMarks(): void {
  const p = loadProgress();
  document.querySelectorAll<HTMLElement>('[data-testid="step-mark"]').forEach((el) => {
    const done = !!p.lessons[el.dataset.lesson ?? ""]?.steps[el.dataset.step ?? ""]?.done;
    el.dataset.done = String(done);
    el.textContent = done ? "✓" : "";
    el.title = done ? "done" : "not done yet";
  });
  document.querySelectorAll<HTMLElement>('[data-testid="lesson-progress"]').forEach((el) => {
    const steps = Object.values(p.lessons[el.dataset.lesson ?? ""]?.steps ?? {});
    const done = steps.filter((s) => s.done).length;
    const total = Number(el.dataset.steps ?? 0);
    el.dataset.done = String(done);
    el.textContent = done === 0 ? "" : done >= total ? "all steps done" : `${done} of ${total} steps done`;
  });
}

// ---- trace matching ----

export function eventMatches(e: TraceEvent, t: Target): boolean {
  return (t.side === "any" || e.side === t.side) && (t.dir === "any" || e.dir === t.dir) && typeMatches(e.type, t.type);
}

/** An event type matches itself, any, and for types the trace reports by
 * number ("Unknown(22)", "Reserved(0)") the name before the number
 * (trace.EventTypes). */
function typeMatches(type: string, want: string): boolean {
  return want === "any" || type === want || type.startsWith(want + "(");
}

/** How many events satisfy an event check. */
function countMatches(c: CheckData, events: TraceEvent[]): number {
  return events.filter((e) => {
    if (!eventMatches(e, c)) return false;
    if (c.field) return e.fields.some((f) => fieldMatches(f, c.field!) && (!c.value || f.value.includes(c.value)));
    return !c.value || (e.summary ?? "").includes(c.value);
  }).length;
}

const needsBroker = (t: Target) => t.side !== "client";

// ---- the scope of do blocks and js: checks ----

type AsyncFn = (...args: unknown[]) => Promise<unknown>;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor as new (...args: string[]) => AsyncFn;

/** What do blocks and js: checks see (web/src/scope.ts); conn is read back
 * after a do block. */
interface RunScope {
  pg: Lab;
  conn: Connection | undefined;
  state: Record<string, unknown>;
  me: string;
  site: Site;
}

// The order matters: scopeArgs passes the values in this order.
const SCOPE_NAMES = ["pg", "state", "me", "log", "hex", "text", "sleep", "events", "site", "recorded", "__scope"];

function scopeArgs(s: RunScope, log: (...a: unknown[]) => void): unknown[] {
  return [s.pg, s.state, s.me, log, hex, text, sleep, s.conn?.trace() ?? [], s.site, recorded, s];
}

/** The code around a do block's code: conn is a variable of the block,
 * read back when it ends. */
const DO_HEAD = "let conn = __scope.conn;\ntry {\n";
const DO_TAIL = "\n} finally {\n__scope.conn = conn;\n}";

/** The line of the do block's code a stack trace points at, or 0: the
 * offset between the stack's line numbers and the code's is measured once,
 * with a function that throws on its first line. */
let lineOffset: number | undefined;
function codeLine(err: unknown): number {
  const at = (e: unknown) => Number(/<anonymous>:(\d+):\d+/.exec(String((e as Error)?.stack ?? ""))?.[1] ?? 0);
  if (lineOffset === undefined) {
    try {
      new Function(...SCOPE_NAMES, DO_HEAD + "throw new Error();" + DO_TAIL)(...SCOPE_NAMES.map(() => ({})));
    } catch (e) {
      lineOffset = at(e) - 1;
    }
  }
  const n = at(err);
  return n && lineOffset !== undefined && n > lineOffset ? n - lineOffset : 0;
}

// ---- the trace panel ----

/** The name and 1-based occurrence (as the trace view counts them) of the
 * first field of e matching name. */
function fieldRef(e: TraceEvent, name: string): { field: string; nth: number } | undefined {
  const count = new Map<string, number>();
  for (const f of e.fields) {
    const nth = (count.get(f.name) ?? 0) + 1;
    count.set(f.name, nth);
    if (fieldMatches(f, name)) return { field: f.name, nth };
  }
  return undefined;
}

/** The trace view of the lesson's current connection, with the current
 * step's look targets highlighted: matching rows and fields get the class
 * "look" and data-look="true", and the first match is selected. */
class TracePanel {
  private readonly view: TraceView;
  private conn: Connection | undefined;
  private failed: TraceEvent[] | undefined;
  private events: TraceEvent[] = [];
  private look: Target[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly info: HTMLElement | null,
  ) {
    this.view = new TraceView(root);
    const detail = root.querySelector('[data-testid="trace-detail"]');
    if (detail) new MutationObserver(() => this.markFields()).observe(detail, { childList: true });
    window.addEventListener(UPDATE_EVENT, (e) => {
      if ((e as CustomEvent<UpdateDetail>).detail.conn === this.conn) this.render();
    });
    setInterval(() => this.render(), 1500);
  }

  show(conn: Connection | undefined, failed?: TraceEvent[]): void {
    this.conn = conn;
    this.failed = failed;
    if (this.info) {
      const t = conn?.tlsInfo();
      this.info.textContent = isRecorded(conn)
        ? `Recorded: ${conn.note}.`
        : conn
        ? `Connection to "${conn.listener}": ${t ? `${t.version}, ${t.cipherSuite}${t.group ? `, ${t.group}` : ""}` : "no TLS, everything in clear"}.`
        : failed
          ? "The connection failed; its trace up to the failure:"
          : "No connection yet: the steps open one.";
    }
    this.render();
  }

  render(): void {
    this.events = this.conn?.trace() ?? this.failed ?? [];
    this.view.update(this.events);
    this.mark(false);
  }

  /** Highlights the targets and selects the first event they match. */
  setLook(targets: Target[]): void {
    this.look = targets;
    this.render();
    this.mark(true);
  }

  private mark(select: boolean): void {
    const hits = new Map<string, TraceEvent>();
    for (const e of this.events) if (this.look.some((t) => eventMatches(e, t))) hits.set(`${e.side}-${e.seq}`, e);
    let first: { key: string; e: TraceEvent } | undefined;
    this.root.querySelectorAll<HTMLElement>('[data-testid="trace-event"]').forEach((row) => {
      const key = (row.dataset.events ?? "").split(" ").find((k) => hits.has(k));
      row.classList.toggle("look", !!key);
      if (key) row.dataset.look = "true";
      else delete row.dataset.look;
      if (key && !first) first = { key, e: hits.get(key)! };
    });
    if (select && first) {
      const { key, e } = first;
      const t = this.look.find((t) => t.field && eventMatches(e, t));
      const ref = t?.field ? fieldRef(e, t.field) : undefined;
      // The view scrolls the row and field into view; keep the page where
      // the learner is reading.
      const x = window.scrollX;
      const y = window.scrollY;
      this.view.show({ event: key, ...(ref ?? {}) });
      window.scrollTo(x, y);
    }
    this.markFields();
  }

  private markFields(): void {
    const key = this.view.selected;
    const e = this.events.find((x) => `${x.side}-${x.seq}` === key);
    const refs = e ? this.look.filter((t) => t.field && eventMatches(e, t)).map((t) => fieldRef(e, t.field!)) : [];
    this.root.querySelectorAll<HTMLElement>('[data-testid="field"]').forEach((tr) => {
      const hit = refs.some((r) => r && r.field === tr.dataset.name && String(r.nth) === (tr.dataset.nth ?? "1"));
      tr.classList.toggle("look", hit);
      if (hit) tr.dataset.look = "true";
      else delete tr.dataset.look;
    });
  }
}

// ---- choices: predict and quiz widgets ----

/** Shows the explanations of the given answers (and hides the others). */
function reveal(fs: HTMLElement, show: number[]): void {
  fs.querySelectorAll<HTMLElement>('[data-testid="explanation"]').forEach((p) => {
    p.hidden = !show.includes(Number(p.dataset.index));
  });
}

function radios(fs: HTMLElement): HTMLInputElement[] {
  return Array.from(fs.querySelectorAll<HTMLInputElement>('input[type="radio"]'));
}

function markChoice(fs: HTMLElement, chosen: number, right: boolean): void {
  radios(fs).forEach((r, i) => {
    r.checked = i === chosen;
    r.closest("label")?.classList.toggle("chosen", i === chosen);
    r.closest("label")?.classList.toggle("wrong", i === chosen && !right);
    r.closest("label")?.classList.toggle("right", i === chosen && right);
  });
}

/** Applies an answer to a quiz fieldset; returns whether it is right. */
function showQuizAnswer(fs: HTMLElement, answer: number): { right: boolean; explanation: string } {
  const r = radios(fs)[answer];
  const right = r?.dataset.right === "true";
  markChoice(fs, answer, right);
  reveal(fs, [answer]);
  const verdict = fs.querySelector<HTMLElement>(".verdict");
  if (verdict) {
    verdict.textContent = right ? "Right." : "Not quite: read why, then try another answer.";
    verdict.className = `verdict ${right ? "ok" : "bad"}`;
  }
  fs.dataset.answered = right ? "right" : "wrong";
  if (right) radios(fs).forEach((x) => (x.disabled = true));
  const expl = fs.querySelector<HTMLElement>(`[data-testid="explanation"][data-index="${answer}"]`);
  return { right, explanation: expl?.textContent?.trim() ?? "" };
}

// ---- one lesson page ----

interface StepState {
  data: StepData;
  el: HTMLElement;
  action: string;
  predict?: BlockData;
  quizzes: BlockData[];
  looks: Target[];
  checks: CheckData[];
  prediction?: number;
  revealed: boolean;
  actionDone: boolean;
  /** Done on an earlier visit, not run on this page yet. */
  earlier: boolean;
  answers: Record<number, number>;
  running: boolean;
  /** The last run on this page failed. */
  failed: boolean;
  /** The step needs the server, and this is the static build: it says so
   * instead of running (its questions stay open). */
  needsServer: boolean;
  /** The step's do block, and the editor holding its code. */
  code?: BlockData;
  editor?: HTMLTextAreaElement;
}

class Lesson implements LessonRunner {
  private readonly steps = new Map<number, StepState>();
  private readonly scope: RunScope;
  private readonly panel: TracePanel | undefined;
  /** The step whose code is running, for pg.download's link. */
  private current: StepState | undefined;
  /** site.ca holds the in-page CA (static build; see siteCA). */
  private caFilled = false;

  constructor(
    pg: Playground,
    private readonly root: HTMLElement,
    private readonly data: LessonData,
  ) {
    const lab = makeLab(pg, (a) => {
      const pre = this.current?.el.querySelector<HTMLElement>('[data-testid="log"]');
      if (pre) {
        pre.hidden = false;
        pre.append(a, "\n");
      }
    });
    // In a class the attendee id is the learner id: the broker lets an
    // attendee's clients use their own topics only (lessons/ID/…).
    this.scope = { pg: lab, conn: undefined, state: {}, me: data.vars?.attendee || learnerID(), site: siteOf(data.vars) };
    const traceRoot = document.querySelector<HTMLElement>('[data-testid="lesson-trace"]');
    if (traceRoot) this.panel = new TracePanel(traceRoot, document.querySelector('[data-testid="lesson-conn"]'));
    for (const d of data.steps) {
      const el = root.querySelector<HTMLElement>(`[data-testid="step"][data-step="${d.n}"]`);
      if (!el) continue;
      const s: StepState = {
        data: d,
        el,
        action: el.dataset.action ?? "none",
        predict: d.blocks.find((b) => b.kind === "predict"),
        quizzes: d.blocks.filter((b) => b.kind === "quiz"),
        looks: d.blocks.filter((b) => b.kind === "look").flatMap((b) => b.targets ?? []),
        checks: d.blocks.filter((b) => b.kind === "check").flatMap((b) => b.checks ?? []),
        revealed: false,
        actionDone: false,
        earlier: false,
        answers: {},
        running: false,
        failed: false,
        needsServer: el.querySelector('[data-testid="needs-server"]') !== null,
        code: d.blocks.find((b) => b.kind === "do"),
      };
      this.steps.set(d.n, s);
      this.mountEditor(s);
      this.wire(s);
      this.restore(s);
      this.update(s);
    }
    renderMarks();
  }

  /** Turns the step's code into an editor with Reset (and, for an
   * exercise, Show solution): Run runs what the editor holds. */
  private mountEditor(s: StepState): void {
    const box = s.el.querySelector<HTMLElement>('[data-testid="do"]');
    const b = s.code;
    if (!box || !b?.code) return;
    const details = box.querySelector("details");
    const pre = box.querySelector("pre");
    if (details) {
      details.open = true;
      const summary = details.querySelector("summary");
      if (summary) summary.textContent = b.solution ? "Exercise: fix this code, then run it" : "The code this step runs (edit it and run it again)";
    }
    const ed = document.createElement("textarea");
    ed.className = "code-editor";
    ed.dataset.testid = "code";
    ed.spellcheck = false;
    ed.setAttribute("autocapitalize", "off");
    ed.setAttribute("aria-label", `code of step ${s.data.n}`);
    ed.value = b.code;
    const fit = () => (ed.rows = Math.min(40, Math.max(3, ed.value.split("\n").length + 1)));
    fit();
    ed.addEventListener("input", fit);
    // Tab indents instead of leaving the editor (Escape, then Tab, leaves it).
    let escaped = false;
    ed.addEventListener("keydown", (e) => {
      if (e.key === "Escape") escaped = true;
      else if (e.key === "Tab" && !escaped && !e.shiftKey) {
        e.preventDefault();
        ed.setRangeText("  ", ed.selectionStart, ed.selectionEnd, "end");
      } else escaped = false;
    });
    (pre ?? details ?? box).replaceWith(ed);
    if (!pre && details) box.prepend(details);
    s.editor = ed;
    const bar = document.createElement("div");
    bar.className = "code-tools";
    if (b.file) {
      const f = document.createElement("span");
      f.className = "code-file";
      f.textContent = `lessons/${b.file}`;
      bar.append(f);
    }
    const button = (label: string, testid: string, text: () => string) => {
      const el = document.createElement("button");
      el.type = "button";
      el.textContent = label;
      el.dataset.testid = testid;
      el.addEventListener("click", () => {
        ed.value = text();
        fit();
      });
      bar.append(el);
    };
    button("Reset", "reset", () => b.code ?? "");
    if (b.solution) button("Show solution", "solution", () => b.solution ?? "");
    ed.after(bar);
  }

  private wire(s: StepState): void {
    const fs = s.el.querySelector<HTMLElement>('[data-testid="predict"]');
    if (fs) {
      radios(fs).forEach((r, i) => r.addEventListener("change", () => this.predict(s, i)));
    }
    s.el.querySelectorAll<HTMLElement>('[data-testid="quiz"]').forEach((q) => {
      const qi = Number(q.dataset.index);
      radios(q).forEach((r, i) => r.addEventListener("change", () => this.answerQuiz(s.data.n, qi, i)));
    });
    s.el.querySelectorAll<HTMLButtonElement>('[data-testid="run"]').forEach((b) => b.addEventListener("click", () => void this.runStep(s.data.n)));
    s.el.querySelectorAll<HTMLElement>('[data-testid="look-target"]').forEach((li) => {
      const show = () => this.panel?.setLook(s.looks);
      li.addEventListener("click", show);
      li.addEventListener("keydown", (e) => (e as KeyboardEvent).key === "Enter" && show());
    });
  }

  private restore(s: StepState): void {
    const p = stepProgress(this.data.id, s.data.n);
    s.earlier = !!p.done;
    s.actionDone = !!p.done;
    const fs = s.el.querySelector<HTMLElement>('[data-testid="predict"]');
    if (fs && p.prediction !== undefined && s.predict?.answers?.[p.prediction]) {
      s.prediction = p.prediction;
      radios(fs)[p.prediction].checked = true;
      if (p.done) this.revealPrediction(s);
    }
    for (const [qi, ai] of Object.entries(p.answers ?? {})) {
      const q = s.el.querySelector<HTMLElement>(`[data-testid="quiz"][data-index="${qi}"]`);
      if (!q || !radios(q)[ai]) continue;
      s.answers[Number(qi)] = ai;
      showQuizAnswer(q, ai);
    }
  }

  private predict(s: StepState, i: number): void {
    if (s.revealed) return;
    s.prediction = i;
    saveStep(this.data.id, s.data.n, { prediction: i });
    this.update(s);
  }

  private revealPrediction(s: StepState): void {
    const fs = s.el.querySelector<HTMLElement>('[data-testid="predict"]');
    if (!fs || !s.predict?.answers || s.prediction === undefined) return;
    s.revealed = true;
    const answers = s.predict.answers;
    const right = answers.findIndex((a) => a.right);
    const ok = !!answers[s.prediction]?.right;
    markChoice(fs, s.prediction, ok);
    radios(fs).forEach((r, i) => {
      r.disabled = true;
      if (answers[i].right) r.closest("label")?.classList.add("right");
    });
    reveal(fs, ok ? [s.prediction] : [s.prediction, right]);
    const verdict = fs.querySelector<HTMLElement>(".verdict");
    if (verdict) {
      verdict.textContent = ok ? "Your prediction was right." : "Not what happened: the marked answer is right.";
      verdict.className = `verdict ${ok ? "ok" : "bad"}`;
    }
    fs.dataset.revealed = "true";
  }

  private done(s: StepState): boolean {
    const acted = s.action === "none" || s.actionDone;
    const quizzes = s.quizzes.every((q) => q.answers?.[s.answers[q.index]]?.right);
    return acted && quizzes && (!s.predict || s.prediction !== undefined);
  }

  /** Brings a step's buttons, state attributes and status line up to date. */
  private update(s: StepState, status?: string, kind?: "ok" | "bad" | "busy"): void {
    const done = this.done(s);
    const state = s.running ? "running" : s.failed ? "failed" : done ? (s.earlier ? "done-earlier" : "done") : s.needsServer ? "needs-server" : "todo";
    s.el.dataset.state = state;
    s.el.dataset.done = String(done);
    const needPrediction = !!s.predict && s.prediction === undefined;
    s.el.querySelectorAll<HTMLButtonElement>('[data-testid="run"]').forEach((b) => {
      b.disabled = s.running || needPrediction || s.needsServer;
      b.title = s.needsServer ? NEEDS_SERVER : needPrediction ? "Make a prediction first" : "";
      const base = s.action === "do" ? "Do it" : s.action === "check" ? "Check" : "Mark as read";
      b.textContent = s.actionDone && s.action !== "read" ? (s.action === "do" ? "Run again" : "Check again") : base;
    });
    const quizOpen = s.action === "none" || s.actionDone || s.needsServer;
    s.el.querySelectorAll<HTMLFieldSetElement>('[data-testid="quiz"]').forEach((q) => {
      q.disabled = !quizOpen;
      q.title = quizOpen ? "" : "Do the step first";
    });
    const line = s.el.querySelector<HTMLElement>('[data-testid="step-status"]');
    if (line) {
      if (status !== undefined) {
        line.textContent = status;
        line.className = `step-status ${kind ?? ""}`;
      } else if (state === "needs-server") {
        line.textContent = NEEDS_SERVER;
        line.className = "step-status";
      } else if (state === "done-earlier") {
        line.textContent = s.action === "do" ? "Done earlier: run again to see it live." : "Done earlier.";
        line.className = "step-status ok";
      } else if (needPrediction && !s.running && state !== "failed") {
        line.textContent = "Make a prediction first.";
        line.className = "step-status";
      }
    }
    if (done && !stepProgress(this.data.id, s.data.n).done) {
      saveStep(this.data.id, s.data.n, { done });
      renderMarks();
    }
  }

  private log(s: StepState, ...args: unknown[]): void {
    const pre = s.el.querySelector<HTMLElement>('[data-testid="log"]');
    if (!pre) return;
    pre.hidden = false;
    pre.append(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") + "\n");
  }

  async runStep(n: number): Promise<{ ok: boolean; error?: string }> {
    const s = this.steps.get(n);
    if (!s) return { ok: false, error: `this lesson has no step ${n}` };
    if (s.running) return { ok: false, error: `step ${n} is already running` };
    if (s.needsServer) return { ok: false, error: NEEDS_SERVER };
    if (s.predict && s.prediction === undefined) return { ok: false, error: "make a prediction first" };
    if (s.action === "none") return { ok: true };
    s.running = true;
    s.failed = false;
    const pre = s.el.querySelector<HTMLElement>('[data-testid="log"]');
    if (pre) {
      pre.textContent = "";
      pre.hidden = true;
    }
    s.el.querySelectorAll<HTMLElement>('[data-testid="check"]').forEach((c) => (c.dataset.status = "pending"));
    this.update(s, s.action === "do" ? "Running…" : "Checking…", "busy");
    try {
      await this.siteCA();
      const code = s.editor?.value ?? s.code?.code;
      if (code !== undefined) await this.runDo(s, code);
      this.revealPrediction(s);
      if (s.looks.length) {
        if (s.looks.some(needsBroker)) await this.scope.conn?.brokerTrace().catch(() => []);
        this.panel?.setLook(s.looks);
      }
      if (s.checks.length) {
        const failed = await this.evalChecks(s);
        if (failed) throw new Error(failed);
        // Broker events may have arrived while checking.
        if (s.looks.length) this.panel?.setLook(s.looks);
      }
      s.actionDone = true;
      s.earlier = false;
      s.running = false;
      const quizzes = s.quizzes.some((q) => !q.answers?.[s.answers[q.index]]?.right);
      this.update(s, quizzes ? "Done. Now answer the question below." : "Done.", "ok");
      reportStep(this.data.id, n, true);
      return { ok: true };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      s.running = false;
      s.failed = true;
      this.update(s, msg, "bad");
      reportStep(this.data.id, n, false);
      return { ok: false, error: msg };
    }
  }

  /** In the static build the CA is the page's own broker's, known once its
   * wasm runs: site.ca.pem is it, and site.ca.url a URL of it in the page. */
  private async siteCA(): Promise<void> {
    const be = backend();
    if (be.mode !== "static" || this.caFilled) return;
    const [pem, url] = await Promise.all([be.caPEM(), be.caURL()]);
    this.scope.site.ca = { ...this.scope.site.ca, pem, url };
    this.caFilled = true;
  }

  /** Where line n (from 1) of step s's code is, for messages:
   * "lessons/02-tls-basics/handshake.ts:12", or the lesson file's line for
   * code written in the block. */
  private where(s: StepState, n: number): string {
    const b = s.code;
    if (!b) return `lessons/${this.data.file}`;
    return b.file ? `lessons/${b.file}:${(b.codeLine ?? 1) + n - 1}` : `lessons/${this.data.file}:${b.line + n}`;
  }

  private async runDo(s: StepState, code: string): Promise<void> {
    const before = this.scope.conn;
    const edited = code !== s.code?.code && code !== s.code?.solution;
    this.current = s;
    try {
      let fn: AsyncFn;
      try {
        fn = new AsyncFunction(...SCOPE_NAMES, DO_HEAD + code + DO_TAIL);
      } catch (e) {
        throw new Error(`the code does not parse: ${e instanceof Error ? e.message : String(e)}${edited ? " (Reset brings back the lesson's code)" : ""}`);
      }
      await fn(...scopeArgs(this.scope, (...a: unknown[]) => this.log(s, ...a)));
    } catch (e) {
      const err = e as ConnectError;
      if (err?.trace) this.panel?.show(undefined, err.trace);
      let msg = err instanceof Error ? err.message : String(err);
      if (err instanceof TypeError && !this.scope.conn) msg += " (this step uses the connection of an earlier step: run that step first)";
      const n = codeLine(err);
      if (n) msg += ` (line ${n} of the code, ${edited ? "as you edited it" : this.where(s, n)})`;
      throw new Error(msg);
    } finally {
      const now = this.scope.conn;
      if (now !== before) {
        // A replaced connection is closed, unless the step kept it in state.
        if (before && !Object.values(this.scope.state).includes(before)) before.close().catch(() => {});
        this.panel?.show(now);
      }
    }
  }

  /** Evaluates the step's checks until all pass or time runs out; returns
   * what failed, or undefined. */
  private async evalChecks(s: StepState, timeoutMs = 8000): Promise<string | undefined> {
    const items = Array.from(s.el.querySelectorAll<HTMLElement>('[data-testid="check"]'));
    const broker = s.checks.some((c) => (c.js ? /broker/i.test(c.js) : needsBroker(c)));
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const conn = this.scope.conn;
      if (broker && conn) await conn.brokerTrace().catch(() => []);
      const events = conn?.trace() ?? [];
      let failure: string | undefined;
      for (const [i, c] of s.checks.entries()) {
        let ok = false;
        let why = "";
        if (c.js) {
          try {
            const fn = new AsyncFunction(...SCOPE_NAMES, `const conn = __scope.conn;\nreturn (${c.js}\n);`);
            ok = !!(await fn(...scopeArgs(this.scope, (...a: unknown[]) => this.log(s, ...a))));
          } catch (e) {
            why = e instanceof Error ? e.message : String(e);
          }
        } else if (!conn) {
          why = "no connection yet";
        } else {
          const n = countMatches(c, events);
          ok = n >= (c.count ?? 1);
          if (!ok) why = n ? `only ${n} found` : "no such event in the trace";
        }
        const item = items[i];
        if (item) {
          item.dataset.status = ok ? "pass" : "fail";
          item.title = why;
        }
        if (!ok && failure === undefined) failure = `check failed: ${c.text}${why ? ` (${why})` : ""} [lessons/${this.data.file}:${c.line ?? s.data.line}]`;
      }
      if (failure === undefined) {
        this.panel?.render();
        return undefined;
      }
      if (performance.now() > deadline) return failure;
      await sleep(400);
    }
  }

  answerQuiz(n: number, quizIndex: number, answerIndex: number): { ok: boolean; error?: string; explanation?: string } {
    const s = this.steps.get(n);
    const q = s?.quizzes.find((b) => b.index === quizIndex);
    const fs = s?.el.querySelector<HTMLElement>(`[data-testid="quiz"][data-index="${quizIndex}"]`);
    if (!s || !q || !fs) return { ok: false, error: `step ${n} has no quiz ${quizIndex}` };
    if (!q.answers?.[answerIndex]) return { ok: false, error: `quiz ${quizIndex} of step ${n} has no answer ${answerIndex}` };
    if (!(s.action === "none" || s.actionDone || s.needsServer)) return { ok: false, error: "do the step first" };
    const r = showQuizAnswer(fs, answerIndex);
    s.answers[quizIndex] = answerIndex;
    saveStep(this.data.id, n, { answers: { [quizIndex]: answerIndex } });
    this.update(s, this.done(s) ? "Done." : undefined, this.done(s) ? "ok" : undefined);
    return { ok: r.right, explanation: r.explanation };
  }
}

// ---- the review path's quizzes on the course map ----

function mountReview(): void {
  document.querySelectorAll<HTMLElement>('[data-testid="review-step"]').forEach((box) => {
    const lesson = box.dataset.lesson ?? "";
    const n = Number(box.dataset.step);
    const fs = box.querySelector<HTMLElement>('[data-testid="quiz"]');
    if (!fs) return;
    const qi = Number(fs.dataset.index);
    const saved = stepProgress(lesson, n).answers?.[qi];
    if (saved !== undefined && radios(fs)[saved]) showQuizAnswer(fs, saved);
    radios(fs).forEach((r, ai) =>
      r.addEventListener("change", () => {
        showQuizAnswer(fs, ai);
        saveStep(lesson, n, { answers: { [qi]: ai } });
        if (box.dataset.needsAction === "false") {
          // A step of quizzes only is done once all of them are right.
          const all = Array.from(document.querySelectorAll<HTMLElement>(`[data-testid="review-step"][data-lesson="${lesson}"][data-step="${n}"] [data-testid="quiz"]`));
          if (all.every((x) => x.dataset.answered === "right")) saveStep(lesson, n, { done: true });
        }
        renderMarks();
      }),
    );
  });
}

/** Mounts the runner on a lesson page, or the marks and review quizzes on
 * the course map; does nothing on other pages. */
export function mountLessons(pg: Playground): void {
  const root = document.querySelector<HTMLElement>('[data-testid="lesson"]');
  const dataEl = document.getElementById("lesson-data");
  if (root && dataEl) {
    const lesson = new Lesson(pg, root, JSON.parse(dataEl.textContent ?? "{}") as LessonData);
    window.lessonRunner = { runStep: (n) => lesson.runStep(n), answerQuiz: (n, q, a) => lesson.answerQuiz(n, q, a) };
    return;
  }
  if (document.querySelector('[data-testid="course"]')) {
    renderMarks();
    mountReview();
    window.addEventListener("storage", (e) => e.key === PROGRESS_KEY && renderMarks());
  }
}
