/**
 * Reading kbuild's output: which lines are compile steps (for progress), and what to quote
 * when a build fails — the compiler's first error with its file:line, or the tool or
 * header the machine lacks.
 */

const STEP =
  /^\s{2}(CC \[M\]|CC|AS|LD|AR|HOSTCC|HOSTLD|OBJCOPY|GEN|GZIP|XZKERN|BUILD|LDS|SYSTBL|SYSHDR|WRAP|UPD|MKELF|CPUSTR|RELOCS|VOFFSET|ZOFFSET|MODPOST|KSYMS|SORTTAB|CHK|POLICY|TEST|SYSMAP)\s+(\S.*)$/;

/** A kbuild progress line ("  CC      mm/filemap.o"), or undefined. */
export function parseKbuildStep(line: string): { verb: string; target: string } | undefined {
  const m = STEP.exec(line);
  return m ? { verb: m[1]!, target: m[2]!.trim() } : undefined;
}

/** Compile steps count toward progress: the ones that turn a source file into an object. */
export function isCompileStep(step: { verb: string }): boolean {
  return step.verb === 'CC' || step.verb === 'CC [M]' || step.verb === 'AS';
}

export interface BuildFailure {
  /** Source file and line of the first compiler error, relative to the tree. */
  file?: string;
  line?: number;
  /** The lines to show the user. */
  quote: string[];
  /** Set when the failure is the machine's (a missing tool or header), with what to install. */
  environment?: string;
}

const MISSING_HEADER: [RegExp, string][] = [
  [/gelf\.h|libelf\.h/, 'libelf-dev'],
  [/openssl\/\w+\.h/, 'libssl-dev'],
  [/bison: (not found|command not found)/, 'bison'],
  [/flex: (not found|command not found)/, 'flex'],
  [/\bbc: (not found|command not found)/, 'bc'],
  [/pahole: (not found|command not found)|pahole .* is not available/i, 'dwarves'],
  [/No space left on device/, '(free disk space)'],
];

const COMPILER_ERROR = /^(\S+?):(\d+)(?::\d+)?: (?:fatal )?error: /;

/** What went wrong in a failed build, from its output lines (in order). */
export function summarizeBuildFailure(lines: string[]): BuildFailure {
  for (const [re, pkg] of MISSING_HEADER) {
    const hit = lines.find((l) => re.test(l));
    if (hit) return { quote: [hit.trim()], environment: pkg };
  }
  const first = lines.findIndex((l) => COMPILER_ERROR.test(l));
  if (first >= 0) {
    const m = COMPILER_ERROR.exec(lines[first]!)!;
    // the "In function" context before it and the caret lines after it
    const start = first > 0 && /In function|In file included/.test(lines[first - 1]!) ? first - 1 : first;
    const quote = lines.slice(start, first + 4).filter((l) => !parseKbuildStep(l) && !/^make(\[\d+\])?: /.test(l));
    return { file: m[1]!.replace(/^\.\//, ''), line: Number(m[2]), quote };
  }
  const linkErr = lines.filter((l) => /undefined reference|multiple definition|ld: .*error/.test(l)).slice(0, 8);
  if (linkErr.length) return { quote: linkErr };
  const makeErr = lines.filter((l) => /\*\*\*|Error \d+/.test(l));
  const tail = lines.filter((l) => !parseKbuildStep(l)).slice(-12);
  return { quote: makeErr.length ? [...tail.filter((l) => !makeErr.includes(l)).slice(-6), ...makeErr.slice(0, 4)] : tail };
}
