/**
 * What CI relies on in every command (issue 12): an output that cannot be written is an
 * environment error (exit 3) with a hint and nothing half-written; SIGTERM stops and cleans
 * up (exit 143); oclif's own errors in the house format, as JSON with --json; `help CMD`;
 * a scenario file runs no code without an explicit opt-in.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { repoRoot, runCli } from './run-cli.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'kreplay-trust-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bin = path.join(repoRoot, 'packages/cli/bin/run.js');
const trace = path.join(repoRoot, 'traces/odirect-race/trace.txt.gz');
const clean = path.join(repoRoot, 'fixtures/diff/clean-1');
const race = path.join(repoRoot, 'fixtures/diff/race');
const scenario = path.join(repoRoot, 'fixtures/scenarios/truncate-vs-fault.yaml');
const STACK = /\n\s+at .+[:(]\d+:\d+\)?\s*$/m;

/** The CLI with its stdout opened on `file` (a device such as /dev/full), as a shell's `> file` does. */
function toFile(args: string[], file: string): Promise<{ exitCode: number; stderr: string }> {
  const fd = openSync(file, 'w');
  const child = spawn('node', [bin, ...args], { cwd: repoRoot, stdio: ['ignore', fd, 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
  closeSync(fd);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ exitCode: code ?? -1, stderr })));
}

const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

// what a terminal acts on: C0 but newline and tab, DEL, C1, and the bidi controls and line
// separators that reorder or break the text shown around them
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** The CLI on `args` exits `exit` and shows `shown` on stdout, with no control character left to act on. */
async function expectShown(args: string[], exit: number, shown: string): Promise<void> {
  const r = await runCli(args);
  expect({ args, exit: r.exitCode }).toEqual({ args, exit });
  expect(r.stdout).toContain(shown);
  expect({ args, controls: r.stdout.match(CONTROLS) }).toEqual({ args, controls: null });
}

/** fixtures/diff/race copied to tmp/NAME, its task kr_dio named `comm` and `tail` added to its trace: the folder and its trace.txt. */
function raceAs(name: string, comm: string, tail = ''): { dir: string; file: string } {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(race)) copyFileSync(path.join(race, f), path.join(dir, f));
  const file = path.join(dir, 'trace.txt');
  writeFileSync(file, `${readFileSync(file, 'utf8').replaceAll('kr_dio-301', `${comm}-301`)}${tail}`);
  return { dir, file };
}

describe('an output that cannot be written', () => {
  const missing = path.join(tmp, 'no', 'such', 'folder');
  mkdirSync(path.join(tmp, 'a-folder'), { recursive: true });
  it.each([
    ['replay --out into a missing folder', ['replay', trace, '--out', path.join(missing, 'r.txt')], /cannot write .*r\.txt: its folder does not exist/],
    ['replay --out naming a folder', ['replay', trace, '--out', path.join(tmp, 'a-folder')], /cannot write .*a-folder: it is a folder/],
    ['diff --out into a missing folder', ['diff', clean, race, '--out', path.join(missing, 'd.txt')], /its folder does not exist/],
    ['report --html into a missing folder', ['report', race, '--html', path.join(missing, 'r.html')], /its folder does not exist/],
    ['report --perfetto naming a folder', ['report', race, '--perfetto', path.join(tmp, 'a-folder')], /it is a folder/],
    [
      'explore --trace-out into a missing folder',
      ['explore', scenario, '--flavor', 'fixtures/flavors/no-truncate-count-recheck.js', '--trace-out', path.join(missing, 'c.trace')],
      /its folder does not exist/,
    ],
    [
      'triage --html into a missing folder',
      ['triage', path.join(repoRoot, 'fixtures/reports/syzkaller-linux-report-85/report.txt'), '--html', path.join(missing, 't.html')],
      /its folder does not exist/,
    ],
  ])('%s: exit 3 with a hint, no stack, nothing left behind', async (_what, args, message) => {
    const r = await runCli(args as string[]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\n {2}hint: /);
    expect(r.stderr).not.toMatch(STACK);
    expect(existsSync(missing)).toBe(false);
    expect(leftovers(tmp)).toEqual([]);
  });

  it.each([
    ['replay', ['replay', trace]],
    ['replay --json', ['replay', trace, '--json']],
    ['diff', ['diff', clean, race]],
    ['report --format text', ['report', race]],
    ['explore', ['explore', scenario]],
    ['parse --jsonl', ['parse', trace, '--jsonl']],
    ['--help', ['--help']],
    ['help replay', ['help', 'replay']],
  ])('%s > /dev/full: exit 3, "the disk is full" or "the write failed", no stack, no hang', async (_what, args) => {
    const r = await toFile(args as string[], '/dev/full');
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/^error: cannot write standard output: (the disk is full|the write failed)\n {2}hint: /m);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('SIGTERM', () => {
  it('stops a report mid-replay: exit 143, says so, and leaves no half-written output', async () => {
    const dir = mkdtempSync(path.join(tmp, 'sigterm-'));
    const fifo = path.join(dir, 'trace.txt');
    execFileSync('mkfifo', [fifo]);
    copyFileSync(path.join(path.dirname(trace), 'meta.json'), path.join(dir, 'meta.json')); // the kernel's vmemmap base
    const child = execa(
      'node',
      [bin, 'report', fifo, '--perfetto', path.join(dir, 'out.json'), '--html', path.join(dir, 'out.html'), '--kernel', 'linux-6.1'],
      {
        reject: false,
        cwd: dir,
        env: { FORCE_COLOR: '0', KREPLAY_PROGRESS_SECONDS: '0.2' },
      },
    );
    // A slow trace: the real one, a few lines at a time, so the replay is under way when the signal comes.
    const w = await open(fifo, 'w');
    const lines = createInterface({ input: createReadStream(trace).pipe(createGunzip()) });
    let sent = 0;
    let signalled = false;
    for await (const line of lines) {
      await w.write(`${line}\n`).catch(() => undefined);
      if (++sent % 50 === 0) await new Promise((r) => setTimeout(r, 20));
      if (!signalled && sent === 2000) {
        child.kill('SIGTERM');
        signalled = true;
      }
      if (child.exitCode !== null || sent > 20_000) break;
    }
    lines.close();
    await w.close().catch(() => undefined);
    const r = await child;
    expect(r.exitCode).toBe(143);
    expect(String(r.stderr)).toContain('kreplay report: interrupted by SIGTERM; stopped and cleaned up (exit 143)');
    expect(readdirSync(dir).sort()).toEqual(['meta.json', 'trace.txt']);
  }, 60_000);
});

describe('command-line errors in the house format', () => {
  it.each([
    [['replay', trace, '--fial-on', 'error'], /^error: kreplay replay: unknown flag --fial-on\n {2}hint: did you mean --fail-on\? /],
    [['replay'], /^error: kreplay replay: missing argument TRACE/],
    [
      ['replay', trace, '--fail-on', 'eror'],
      /^error: kreplay replay: --fail-on "eror" is not one of error, warning, note, never\n {2}hint: did you mean --fail-on error\?/,
    ],
    [['diff', clean, race, '--format', 'json', '--json'], /^error: kreplay diff: .*--format/],
    [['replya', trace], /^error: kreplay: unknown command "replya"\n {2}hint: did you mean kreplay replay\?/],
    [['help', 'replya'], /^error: kreplay: unknown command "replya"/],
  ])('%j: exit 2, what and hint, no oclif wording, no stack', async (args, message) => {
    const r = await runCli(args as string[]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/See more help with|›|Error:/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('with --json, an error is also one JSON object on stdout', async () => {
    const usage = await runCli(['replay', trace, '--json', '--fial-on', 'error']);
    expect(usage.exitCode).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { kind: 'usage', exit: 2, message: 'unknown flag --fial-on', hint: expect.stringContaining('did you mean --fail-on?') },
    });
    const input = await runCli(['diff', path.join(tmp, 'nope'), race, '--json']);
    expect(input.exitCode).toBe(2);
    // the path is the error's `file` (since session 32 the message no longer repeats it)
    expect(JSON.parse(input.stdout).error).toMatchObject({ kind: 'input', exit: 2, message: 'no such file or folder', file: expect.stringContaining('nope') });
    const env = await runCli(['replay', trace, '--json', '--out', path.join(tmp, 'missing', 'x.json')]);
    expect(env.exitCode).toBe(3);
    expect(JSON.parse(env.stdout).error).toMatchObject({ kind: 'environment', exit: 3, hint: expect.any(String) });
  });

  it('help CMD, -h and CMD --help show the same help', async () => {
    const a = await runCli(['help', 'replay']);
    const b = await runCli(['replay', '-h']);
    const c = await runCli(['replay', '--help']);
    for (const r of [a, b, c]) expect(r.exitCode).toBe(0);
    expect(a.stdout).toContain('USAGE');
    expect(b.stdout).toBe(c.stdout);
    expect(a.stdout).toBe(c.stdout);
    const topic = await runCli(['help', 'kernel', 'build']);
    expect(topic.exitCode).toBe(0);
    expect(topic.stdout).toContain('kernel build');
  }, 180_000);
});

describe('a scenario file runs no code without an explicit choice', () => {
  const dir = mkdtempSync(path.join(tmp, 'flavor-'));
  // The module sits beside the scenario; a marker file proves whether it ran.
  const marker = path.join(dir, 'ran');
  writeFileSync(
    path.join(dir, 'evil.js'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\nexport default ({ flavors }) => flavors['linux-2.6.15'];\n`,
  );
  writeFileSync(path.join(dir, 'scenario.yaml'), readFileSync(scenario, 'utf8').replace(/^flavor: .*$/m, 'flavor: ./evil.js'));

  it('refuses a flavor module named by the scenario, even under --check (exit 2, at the flavor line)', async () => {
    for (const extra of [[], ['--check']]) {
      const r = await runCli(['explore', path.join(dir, 'scenario.yaml'), ...extra]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/scenario\.yaml:\d+: the scenario names a flavor module \(\.\/evil\.js\): a flavor module is code/);
      expect(r.stderr).toContain('--allow-scenario-code');
      expect(existsSync(marker)).toBe(false);
    }
  });

  it('names an absolute module path as it is in the hint (it was joined to the scenario folder: another path)', async () => {
    const abs = path.join(dir, 'absolute.yaml');
    writeFileSync(abs, readFileSync(scenario, 'utf8').replace(/^flavor: .*$/m, `flavor: ${path.join(dir, 'evil.js')}`));
    const r = await runCli(['explore', abs, '--check']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`run it by choice with --flavor ${path.join(dir, 'evil.js')},`);
    expect(existsSync(marker)).toBe(false);
  });

  it('loads it with --allow-scenario-code, relative to the scenario file, not the working folder', async () => {
    const r = await runCli(['explore', path.join(dir, 'scenario.yaml'), '--check', '--allow-scenario-code']);
    expect(r.exitCode).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('an error quoting an input file does not act on its control characters', () => {
  it('shows an escape sequence of a schedule file escaped on stderr and in --json', async () => {
    // the schedule line is quoted in the error: its ESC ] 0 ; ... BEL retitled the terminal, ESC [ 2 J cleared it
    const file = path.join(tmp, 'escape.schedule');
    writeFileSync(file, '\u001b]0;owned\u0007\u001b[2J 0,1\r\n');
    const r = await runCli(['explore', scenario, '--schedule', file]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('"\\u001b]0;owned\\u0007\\u001b[2J 0,1" is not a list of thread ids');
    // eslint-disable-next-line no-control-regex
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    const j = await runCli(['explore', scenario, '--schedule', file, '--json']);
    expect((JSON.parse(j.stdout) as { error: { message: string } }).error.message).toContain('"\\u001b]0;owned');
  });

  it('a message that quotes input as it is still reaches the terminal with its control characters as \\xNN', async () => {
    const r = await runCli(['explore', scenario, '--flavor', '\u001b]0;owned\u0007']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown flavor \\x1b]0;owned\\x07');
    // eslint-disable-next-line no-control-regex
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});

describe("a trace's own text does not act on the terminal", () => {
  it('shows the control characters of a comm name as \\xNN in the text, report and GitHub outputs, not as an escape sequence', async () => {
    // a process names itself (prctl PR_SET_NAME): ESC ] 0 ; ... BEL retitles the terminal, ESC [ 2 J clears it
    // and U+202E (RLO), which makes a terminal show the rest of the line reversed
    const { dir, file } = raceAs('escape-trace', 'kr\u001b]0;pwned\u0007\u001b[2J\u202ed');
    for (const args of [
      ['replay', file],
      ['replay', file, '--format', 'github'],
      ['diff', clean, dir],
      ['diff', clean, dir, '--format', 'github'],
      ['report', file],
    ]) {
      await expectShown(args, args[0] === 'report' ? 0 : 1, 'kr\\x1b]0;pwned\\x07\\x1b[2J\\u202ed-301'); // report: 0 once written
    }
  });

  it('shows them, DEL and the C1 controls (U+009B is CSI) as \\xNN, bidi controls and line separators as \\uNNNN, in the KTAP and JUnit outputs and in the warnings on stderr too', async () => {
    // and a line that does not parse, which `kreplay parse` quotes in a warning
    // and U+202E (RLO), which shows the rest of the line reversed, and U+2028 (a line separator)
    const { dir, file } = raceAs('escape-c1-trace', 'kr\u001b[2J\u009b2J\u007f\u202e\u2028d', 'garbage \u009b2J\u2066\n');
    for (const args of [
      ['replay', file, '--format', 'ktap'],
      ['replay', file, '--format', 'junit'],
      ['diff', clean, dir, '--format', 'ktap'],
      ['diff', clean, dir, '--format', 'junit'],
      ['parse', file],
    ]) {
      const r = await runCli(args);
      expect({ args, exit: r.exitCode }).toEqual({ args, exit: args[0] === 'parse' ? 0 : 1 });
      expect(args[0] === 'parse' ? r.stderr : r.stdout).toContain(args[0] === 'parse' ? 'garbage \\x9b2J\\u2066' : 'kr\\x1b[2J\\x9b2J\\x7f\\u202e\\u2028d-301');
      expect({ args, controls: [...(r.stdout.match(CONTROLS) ?? []), ...(r.stderr.match(CONTROLS) ?? [])] }).toEqual({ args, controls: [] });
    }
  }, 240_000);

  it('shows those of an input file name as \\xNN where triage and explore --check print it', async () => {
    const dir = path.join(tmp, 'named\u001b[2J\u009b');
    mkdirSync(dir, { recursive: true });
    const report = path.join(dir, 'report.txt');
    copyFileSync(path.join(repoRoot, 'fixtures/reports/syzkaller-linux-report-85/report.txt'), report);
    const yaml = path.join(dir, 'scenario.yaml');
    copyFileSync(scenario, yaml);
    for (const args of [
      ['triage', report],
      ['explore', yaml, '--check'],
    ]) {
      await expectShown(args, 0, 'named\\x1b[2J\\x9b');
    }
  }, 120_000);

  it("keeps a folder name's line break inside its line (\\x0a): a run folder unpacked from an artifact starts no line of its own", async () => {
    // `::error::` at the start of a line of a CI runner's log is a workflow command; the text
    // outputs keep their own newlines, so a path holding one printed a line of the folder's choosing
    const base = path.join(tmp, 'nl-base');
    const patched = path.join(tmp, 'nl-patched');
    const run = path.join(patched, 'run-1\n::error::pwned');
    for (const [from, to] of [
      [clean, path.join(base, 'run-1')],
      [race, run],
    ]) {
      mkdirSync(to, { recursive: true });
      for (const f of readdirSync(from)) copyFileSync(path.join(from, f), path.join(to, f));
    }
    const json = path.join(tmp, 'nl-patched.json');
    const shown = 'run-1\\x0a::error::pwned/trace.txt';
    const config = path.join(tmp, 'nl-ci.json');
    writeFileSync(
      config,
      JSON.stringify({ schema: 'kreplay-ci/1', base: { traces: [base] }, patched: { traces: [patched] }, output: path.join(tmp, 'nl-ci') }),
    );
    for (const [args, exit] of [
      [['replay', path.join(run, 'trace.txt')], 1],
      [['replay', path.join(run, 'trace.txt'), '--format', 'json', '--out', json], 1],
      [['diff', base, patched], 1],
      [['diff', clean, json], 1], // replay's JSON of it read back: its source is one line
      [['report', path.join(run, 'trace.txt')], 0],
      [['parse', path.join(run, 'trace.txt'), '--stats'], 0],
      [['replay', path.join(run, 'missing.txt')], 2],
      [['ci', '--config', config], 1], // its progress names each run
    ] as const) {
      const r = await runCli([...args]);
      expect({ args, exit: r.exitCode }).toEqual({ args, exit });
      expect({ args, lines: `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.startsWith('::')) }).toEqual({ args, lines: [] });
      if (args.includes('--out')) expect(JSON.parse(readFileSync(json, 'utf8')).trace.source).toContain(shown);
      else if (args[2] !== json) expect(`${r.stdout}${r.stderr}`).toContain(shown.replace('trace.txt', ''));
    }
  }, 120_000);

  it("does not open the trace a replay JSON names: report's events around a finding come only from a trace the user gave", async () => {
    // the JSON is someone else's: its trace.source may name any file of this machine
    const secret = path.join(tmp, 'elsewhere', 'trace.txt');
    mkdirSync(path.dirname(secret), { recursive: true });
    writeFileSync(secret, readFileSync(path.join(race, 'trace.txt'), 'utf8').replaceAll('kr_fault-302', 'SECRETPROC-302'));
    copyFileSync(path.join(race, 'meta.json'), path.join(path.dirname(secret), 'meta.json'));
    const json = path.join(tmp, 'names-elsewhere.json');
    expect((await runCli(['replay', path.join(race, 'trace.txt'), '--format', 'json', '--no-timing', '--out', json])).exitCode).toBe(1);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    j.trace.source = secret;
    for (const f of j.findings) for (const e of f.events) e.source = secret;
    writeFileSync(json, JSON.stringify(j));
    const html = path.join(tmp, 'names-elsewhere.html');
    expect((await runCli(['report', json, '--html', html])).exitCode).toBe(0);
    expect(readFileSync(html, 'utf8')).not.toContain('SECRETPROC');
    // the trace itself, given by the user, is read for them
    const own = path.join(tmp, 'own.html');
    expect((await runCli(['report', secret, '--html', own])).exitCode).toBe(0);
    expect(readFileSync(own, 'utf8')).toContain('SECRETPROC');
  });

  it("shows the control characters of a litmus test's name as \\xNN, not as an escape sequence", async () => {
    const test = path.join(repoRoot, 'packages/lkmm/test/fixtures/derived/kreplay-lkmm-store-buffering-left-right-after.litmus');
    const file = path.join(tmp, 'escape.litmus');
    writeFileSync(file, readFileSync(test, 'utf8').replace(/^C \S+/, 'C sb\u001b]0;pwned\u0007\u001b[2Jx'));
    for (const args of [
      ['litmus', file],
      ['litmus', file, '--judge'],
    ]) {
      await expectShown(args, 0, 'Test sb\\x1b]0;pwned\\x07\\x1b[2Jx Allowed');
    }
  });
});

describe('JSON output escapes DEL and the C1 controls', () => {
  it('writes a comm name holding U+009B (CSI), DEL, U+202E (RLO) and U+2028 as \\u009b, \\u007f, \\u202e and \\u2028 in every JSON format, read back as the same name', async () => {
    // valid JSON either way, but a terminal showing `kreplay ... --json` acts on a raw U+009B
    const comm = 'kr\u009b2J\u007f\u202e\u2028d';
    const { dir, file } = raceAs('c1-trace', comm);
    const perfetto = path.join(tmp, 'c1.perfetto.json');
    const outputs: Array<[string[], () => string]> = [];
    for (const args of [
      // core's stringifyJson (every --json, replay's SARIF, --jsonl), and the writers that had their own
      ['replay', file, '--format', 'json'],
      ['replay', file, '--format', 'kcidb'],
      ['diff', clean, dir, '--format', 'sarif'],
      ['report', file, '--format', 'json', '--perfetto', perfetto],
      ['parse', file, '--jsonl'],
    ]) {
      const r = await runCli(args);
      expect({ args, exit: r.exitCode }).toEqual({ args, exit: args[0] === 'replay' || args[0] === 'diff' ? 1 : 0 });
      outputs.push([args, () => r.stdout]);
    }
    outputs.push([['report --perfetto'], () => readFileSync(perfetto, 'utf8')]);
    for (const [args, text] of outputs) {
      const out = text();
      expect({ args, raw: out.match(/[\u007f-\u009f\u202e\u2028]/g) }).toEqual({ args, raw: null });
      expect({ args, escaped: out.includes('kr\\u009b2J\\u007f\\u202e\\u2028d') }).toEqual({ args, escaped: true });
      const docs = args[0] === 'parse' ? out.trim().split('\n') : [out];
      expect({ args, names: docs.some((d) => JSON.stringify(JSON.parse(d)).includes(comm)) }).toEqual({ args, names: true });
    }
  }, 240_000);
});
