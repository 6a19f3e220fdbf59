/**
 * JUnit's counts as a reader of the file checks them: a `<testsuite>`'s `tests`, `failures`,
 * `errors` and `skipped` are numbers of `<testcase>`s (one that fails, errs or is skipped), and
 * `<testsuites>`'s are their sums. Returns what the attributes say and what the cases are.
 */
export interface JunitCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

const attr = (tag: string, name: string): number => Number(new RegExp(` ${name}="(\\d+)"`).exec(tag)?.[1] ?? 0);

export function junitCounts(xml: string): { said: JunitCounts[]; cases: JunitCounts[] } {
  const said: JunitCounts[] = [];
  const cases: JunitCounts[] = [];
  const top = /<testsuites [^>]*>/.exec(xml)?.[0];
  for (const m of xml.matchAll(/(<testsuite [^>]*>)([^]*?)<\/testsuite>/g)) {
    const [, tag, body] = m as unknown as [string, string, string];
    said.push({ tests: attr(tag, 'tests'), failures: attr(tag, 'failures'), errors: attr(tag, 'errors'), skipped: attr(tag, 'skipped') });
    const all = [...body.matchAll(/<testcase [^>]*?(?:\/>|>([^]*?)<\/testcase>)/g)].map((c) => c[1] ?? '');
    cases.push({
      tests: all.length,
      failures: all.filter((c) => c.includes('<failure ')).length,
      errors: all.filter((c) => c.includes('<error ')).length,
      skipped: all.filter((c) => c.includes('<skipped ')).length,
    });
  }
  if (top) {
    // the root's counts, where it has them, are the sums of its suites' (skipped is not on every root)
    const sum = (k: keyof JunitCounts) => cases.reduce((n, c) => n + c[k], 0);
    said.push({
      tests: attr(top, 'tests'),
      failures: attr(top, 'failures'),
      errors: attr(top, 'errors'),
      skipped: / skipped=/.test(top) ? attr(top, 'skipped') : sum('skipped'),
    });
    cases.push({ tests: sum('tests'), failures: sum('failures'), errors: sum('errors'), skipped: sum('skipped') });
  }
  return { said, cases };
}
