// Types of the lesson data the lesson page embeds as JSON (script
// #lesson-data). They mirror lessons/lessons.go (Step, Block, Answer,
// Target, Check) and lessonData in server/lessons.go.

export interface LessonData {
  id: string;
  steps: StepData[];
  /** The placeholders' values for this page ("port.mqtts" → "8883"), which
   * do blocks read as site (site.port.mqtts); see lessons/placeholders.go. */
  vars?: Record<string, string>;
}

export interface StepData {
  /** Numbers the steps from 1: the anchor is #step-N. */
  n: number;
  title: string;
  slug?: string;
  essential?: boolean;
  /** The heading's line in the lesson file. */
  line: number;
  blocks: BlockData[];
}

export type BlockKind = "predict" | "do" | "look" | "check" | "quiz";

export interface BlockData {
  kind: BlockKind;
  line: number;
  /** Numbers the step's blocks of this kind from 0. */
  index: number;
  /** predict, quiz: HTML. */
  question?: string;
  answers?: AnswerData[];
  /** do: JavaScript. */
  code?: string;
  targets?: Target[];
  checks?: CheckData[];
}

export interface AnswerData {
  /** HTML. */
  text: string;
  right: boolean;
  /** HTML. */
  explanation: string;
}

/** Selects trace events, and with field a field of them. */
export interface Target {
  side: "client" | "broker" | "any";
  dir: "send" | "recv" | "any";
  /** An event type, or "any". */
  type: string;
  /** A field name, or for a TLS extension the extension's name. */
  field?: string;
}

/** One check line: an event check, or a js: expression when js is set. */
export interface CheckData extends Target {
  source: string;
  text: string;
  js?: string;
  value?: string;
  count?: number;
}
