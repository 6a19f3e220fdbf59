/**
 * Stable rule ids (DESIGN.md "Rules"). docs/rules.md explains each with an example.
 * Replay, explore, diff and every report format use exactly these strings.
 */
export const RULES = [
  'mapped-page-removed',
  'orphan-page-mapped',
  'stale-after-invalidate',
  'stale-data',
  'mapped-beyond-eof',
  'livelock',
  'deadlock',
  'bug-on',
  'trace-inconsistent',
  'freed-while-unmapped-direct',
] as const;

export type RuleId = (typeof RULES)[number];

export type Severity = 'error' | 'warning' | 'note';

/** `uncertain` when a Gap (lost events) on an involved CPU could explain the finding away. */
export type Certainty = 'certain' | 'uncertain';

/** A cited input event: where it is and what it was. */
export interface CitedEvent {
  line: number;
  source: string;
  ts: bigint;
  cpu: number;
  pid: number;
  comm: string;
  /** The event in a few words (`mm_filemap_delete_from_page_cache pfn=0x1234`). */
  summary: string;
  /** The line exactly as the trace printed it, when the trace could be read again (not stdin, not trace.dat). */
  text?: string;
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  certainty: Certainty;
  /** One line: what went wrong. */
  message: string;
  ts: bigint;
  cpu: number;
  pid: number;
  events: CitedEvent[];
  /** Sentences a kernel developer would write: who raced with whom, in what order. */
  explanation: string;
  /** Page-cache identity involved (for diff matching across runs). */
  file?: FileKey;
  index?: number;
}

/** A file as the page cache knows it: `dev` as `major:minor`, `ino` exact. */
export interface FileRef {
  dev: string;
  ino: bigint;
}

/** `major:minor/ino-hex`, the canonical string form of a FileRef (map key, diff key). */
export type FileKey = string;

export function fileKey(f: FileRef): FileKey {
  return `${f.dev}/${f.ino.toString(16)}`;
}

export const DEFAULT_SEVERITY: Record<RuleId, Severity> = {
  'mapped-page-removed': 'error',
  'orphan-page-mapped': 'error',
  'stale-after-invalidate': 'error',
  'stale-data': 'error',
  'mapped-beyond-eof': 'error',
  'livelock': 'error',
  'deadlock': 'error',
  'bug-on': 'error',
  'trace-inconsistent': 'warning',
  'freed-while-unmapped-direct': 'error',
};
