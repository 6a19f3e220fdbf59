import { Flags } from '@oclif/core';
import { printable, stringifyJson } from '@kreplay/core';
import { buildKernel, type BuildProgress, type KernelBuildResult } from '@kreplay/kernel-build';
import { KreplayCommand } from '../../base.js';

export default class KernelBuild extends KreplayCommand {
  static override summary = 'Build a kernel (optionally patched) for capture, cached by identity';
  static override description = `Builds Debian's linux-source-6.1 (--source debian, or debian:6.1.192-2 to pin a version) or linux-source-6.12 (--source debian-6.12, or debian-6.12:6.12.117-1~deb12u1), fetched with apt-get download and unpacked into the cache, or your own tree (--source DIR, built in a copy) from tinyconfig or defconfig plus the config fragments, verifies after olddefconfig that every requested option survived (exit 2 naming the ones that did not), applies each --patch with patch -p1 after a dry run, and compiles bzImage and vmlinux. Also writes System.map, the final config, offsets.json (the struct offsets capture's probes need, from offsetof() compiled with the build's own flags), build.log and result.json (the build's identity for meta.json).

Builds are cached by identity (source, base, fragments, patch hashes, compiler) under $KREPLAY_CACHE (default ~/.cache/kreplay)/kernel-build: an identical build returns at once, and builds that differ only by their patches share one tree and recompile only what the patches touch. uname -r of the result is <version>-kreplay-<key>.

Exit codes: 0 built (or cached), 2 a bad fragment, an option that did not survive, a patch that does not apply or a compile error (quoted), 3 a missing tool or package.`;

  static override examples = [
    '<%= config.bin %> kernel build --source debian --config-fragment kernel-configs/kreplay.config --config-fragment kernel-configs/debug-vm.config',
    '<%= config.bin %> kernel build --source debian --config-fragment kernel-configs/kreplay.config --patch kernel-configs/patches/0001-filemap_fault-drop-truncated-folio-recheck.patch --out build/patched',
    '<%= config.bin %> kernel build --source debian-6.12 --config-fragment kernel-configs/kreplay.config --patch kernel-configs/patches/linux-6.12/0001-filemap_fault-drop-truncated-folio-recheck.patch --out build/patched-6.12',
    '<%= config.bin %> kernel build --source ~/linux --base defconfig --config-fragment kernel-configs/kreplay.config --jobs 8 --json',
  ];

  static override flags = {
    'source': Flags.string({
      required: true,
      description:
        '"debian" (apt\'s linux-source-6.1, fetched with apt-get download), "debian-6.12" (linux-source-6.12), either with ":<version>" (that package version; reused from the cache without apt), or a kernel source directory',
    }),
    'config-fragment': Flags.string({
      multiple: true,
      default: [],
      description: 'config fragment merged onto the base config, in order (a later one wins); repeatable',
    }),
    'patch': Flags.string({ multiple: true, default: [], description: 'patch applied with patch -p1, in order; repeatable' }),
    'base': Flags.string({ options: ['tinyconfig', 'defconfig'], default: 'tinyconfig', description: 'base config the fragments are merged onto' }),
    'jobs': Flags.integer({ char: 'j', min: 1, default: 2, description: 'parallel make jobs' }),
    'nice': Flags.integer({ min: 0, max: 19, default: 10, description: 'run make under nice -n N (0: not niced)' }),
    'out': Flags.string({ description: 'also copy the outputs (bzImage, vmlinux, System.map, config, offsets.json, build.log, result.json) here' }),
    'json': Flags.boolean({ description: 'print the build result as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(KernelBuild);
    const progress = process.stderr.isTTY ? this.ttyProgress() : this.plainProgress();
    let result: KernelBuildResult;
    try {
      result = await buildKernel({
        source: flags.source,
        fragments: flags['config-fragment'],
        patches: flags.patch,
        base: flags.base as 'tinyconfig' | 'defconfig',
        jobs: flags.jobs,
        nice: flags.nice,
        out: flags.out,
        onProgress: progress.update,
        signal: this.interruptible(), // SIGINT/SIGTERM stop make and exit 130/143
      });
    } finally {
      progress.done();
    }
    if (flags.json) {
      this.out(stringifyJson(result, 2));
      return;
    }
    this.out(formatResult(result));
  }

  /** One rewritten status line on a TTY. */
  private ttyProgress(): { update: (p: BuildProgress) => void; done: () => void } {
    let last = 0;
    let shown = false;
    return {
      update: (p) => {
        const now = Date.now();
        if (p.phase === 'compile' && now - last < 200) return;
        last = now;
        const count = p.units === undefined ? '' : p.expectedUnits ? ` ${p.units}/${p.expectedUnits}` : ` ${p.units}`;
        process.stderr.write(`\r\x1b[K${p.phase}${count}: ${printable(p.message)}`.slice(0, (process.stderr.columns || 100) + 4));
        shown = true;
      },
      done: () => {
        if (shown) process.stderr.write('\r\x1b[K');
      },
    };
  }

  /** Not a TTY (CI, a pipe): one line per phase, no per-object noise. */
  private plainProgress(): { update: (p: BuildProgress) => void; done: () => void } {
    let phase = '';
    return {
      update: (p) => {
        if (p.phase === phase) return;
        phase = p.phase;
        this.note(`${p.phase}: ${p.message}`);
      },
      done: () => {},
    };
  }
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

export function formatResult(r: KernelBuildResult): string {
  const t = r.timings;
  const lines = [
    `kernel ${r.kernelRelease} (build ${r.key}, tree ${r.treeKey})${r.cached ? ' — cached, nothing rebuilt' : ''}`,
    `  source:    ${r.meta.source}`,
    `  config:    ${r.identity.base} + ${r.identity.fragments.map((f) => f.name).join(' + ') || '(no fragments)'}: ${r.configRequested} options requested, all present`,
    `  patches:   ${r.identity.patches.map((p) => `${p.name} (${p.sha256.slice(0, 12)})`).join(', ') || 'none'}`,
  ];
  if (!r.cached) {
    lines.push(`  compiled:  ${r.compiledUnits} objects; reverted ${r.patchesReverted.length}, applied ${r.patchesApplied.length} patch(es)`);
    lines.push(
      `  time:      total ${seconds(t.total)} (source ${seconds(t.source)}, tree ${seconds(t.tree)}, patch ${seconds(t.patch)}, config ${seconds(t.config)}, compile ${seconds(t.compile)}, offsets ${seconds(t.offsets)}, install ${seconds(t.install)})`,
    );
  }
  lines.push(
    `  bzImage:   ${r.files.bzImage}`,
    `  vmlinux:   ${r.files.vmlinux}`,
    `  System.map ${r.files.systemMap}`,
    `  offsets:   ${r.files.offsets} (${Object.keys(r.offsets.offsets).length} fields of ${Object.keys(r.offsets.sizes).length} structs)`,
    `  log:       ${r.files.log}`,
  );
  if (r.files.modules) lines.push(`  modules:   ${r.files.modules}`);
  return lines.join('\n');
}
