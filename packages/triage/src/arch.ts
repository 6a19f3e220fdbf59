/**
 * The CPU architecture a splat was printed on, and how that CPU orders memory accesses.
 *
 * The explorer's search is sequentially consistent: every interleaving of the model's steps,
 * each step seeing every earlier one. A CPU may reorder more than that where the kernel's
 * barriers and locks allow: x86 (and s390) let a store pass a later load (a store buffer);
 * arm64, arm, powerpc, riscv and mips reorder loads and stores more freely (weakly ordered).
 * So "no interleaving reaches the rule" is said of a sequentially consistent machine, and of
 * a weakly ordered CPU it proves nothing (docs/triage.md, session 41).
 *
 * The architecture is read from what each one's `show_regs()` prints (6.1: arch/x86/kernel/
 * process_64.c `RIP: %04x:%pS`, arch/arm64/kernel/process.c `pc : %pS` / `lr : %pS`,
 * arch/arm/kernel/process.c `PC is at %pS`, arch/powerpc/kernel/process.c `NIP:  %016lx LR:`,
 * arch/riscv/kernel/process.c `epc : %pS`, arch/s390/kernel/dumpstack.c `Krnl PSW : `), then from
 * x86's `<TASK>` stack marks (arch/x86/kernel/dumpstack.c, 5.16+), then from a frame only one
 * architecture's entry code has (`entry_SYSCALL_64_after_hwframe`, 2.6's `syscall_call`, arm64's
 * `el0_svc`), then from arm64's lower-case `Call trace:` (x86 prints `Call Trace:`), then from a
 * release that names it (Debian's `6.1.0-13-arm64`, Fedora's `.aarch64`).
 */

export type Ordering = 'tso' | 'weak';

export interface SplatArch {
  /** `x86`, `arm64`, `arm`, `powerpc`, `riscv`, `s390`, `mips`. */
  name: string;
  ordering: Ordering;
  /** What said so, as the output quotes it: `its RIP: line`, `its frame el0_svc`, `its release 6.1.0-13-arm64`. */
  from: string;
}

const ORDERING: Record<string, Ordering> = {
  x86: 'tso',
  s390: 'tso',
  arm64: 'weak',
  arm: 'weak',
  powerpc: 'weak',
  riscv: 'weak',
  mips: 'weak',
};

/** Register lines, most specific first: [pattern, architecture, what the output quotes]. */
const REGISTER_LINES: Array<[RegExp, string, string]> = [
  [/^RIP: (?:[0-9a-f]{4}:|\[<)/, 'x86', 'its RIP: line'],
  [/^RAX: [0-9a-f]{16}/, 'x86', 'its RAX: line'],
  [/^EIP:\s+(?:[0-9a-f]{4}:|\[<)|^EIP is at /, 'x86', 'its EIP: line'],
  [/^EAX: [0-9a-f]{8}/, 'x86', 'its EAX: line'],
  [/^pc : \[<[0-9a-f]+>\]|^PC is at /, 'arm', 'its pc : [<...>] line'],
  [/^pc : (?!\[<)\S/, 'arm64', 'its pc : line'],
  [/^lr : (?!\[<)\S/, 'arm64', 'its lr : line'],
  [/^x29: [0-9a-f]{16}/, 'arm64', 'its x29: line'],
  [/^NIP:? +\[?[0-9a-f]+/, 'powerpc', 'its NIP: line'],
  [/^GPR00: /, 'powerpc', 'its GPR00: line'],
  [/^epc : (?!\s)/, 'riscv', 'its epc : line'],
  [/^Krnl PSW : /, 's390', 'its Krnl PSW : line'],
  [/^epc {3}: [0-9a-f]+/, 'mips', 'its epc   : line'],
];

/** The architecture one splat line shows (a register line of its show_regs()), if any. */
export function archOfLine(t: string): SplatArch | undefined {
  for (const [re, name, from] of REGISTER_LINES) if (re.test(t)) return { name, ordering: ORDERING[name]!, from };
  return undefined;
}

/** Functions of one architecture's entry and trap code (arch/<arch>/entry*, arch/<arch>/kernel/entry*). */
const ENTRY_FRAMES: Array<[RegExp, string]> = [
  [
    /^(?:entry_SYSCALL_64\w*|do_syscall_64|entry_SYSENTER_32|entry_INT80_32|entry_INT80_compat|do_int80_syscall_32|do_fast_syscall_32|syscall_call|sysenter_past_esp|sysenter_do_call|system_call_fastpath|int_signal|asm_exc_\w+|asm_sysvec_\w+|asm_common_interrupt)$/,
    'x86',
  ],
  [/^(?:el0_svc\w*|el0t_64_\w+|el1h_64_\w+|el0_sync\w*|el1_sync\w*|do_el0_svc|invoke_syscall)$/, 'arm64'],
  [/^(?:system_call_exception|system_call_common|system_call_vectored_\w+|interrupt_return_srr\w*)$/, 'powerpc'],
  [/^do_trap_ecall_u$/, 'riscv'],
];

/** The architecture a frame's function names (an entry or trap function of one architecture), if any. */
export function archOfFrame(fn: string): SplatArch | undefined {
  for (const [re, name] of ENTRY_FRAMES) if (re.test(fn)) return { name, ordering: ORDERING[name]!, from: `its frame ${fn}` };
  return undefined;
}

/** x86 marks the stacks of a trace `<TASK>`, `<IRQ>`, `<NMI>` (5.16+: `</TASK>`; only x86 prints them). */
export function archOfStackMark(t: string): SplatArch | undefined {
  return /^<\/?TASK>$/.test(t) ? { name: 'x86', ordering: 'tso', from: 'its <TASK> marks' } : undefined;
}

/** arm64's `dump_backtrace()` prints `Call trace:`; x86, powerpc and riscv print `Call Trace:`. */
export function archOfTraceLabel(t: string): SplatArch | undefined {
  return /^Call trace:\s*$/.test(t) ? { name: 'arm64', ordering: 'weak', from: "its 'Call trace:' label" } : undefined;
}

/** The architecture a release string names (`6.1.0-13-arm64`, `5.14.0-70.el9.aarch64`), if any. */
export function archOfRelease(release: string | null): SplatArch | undefined {
  if (!release) return undefined;
  const m =
    /(?:^|[-._+])(amd64|x86_64|i[3-6]86|686(?:-pae)?|arm64|aarch64|armhf|armmp|armv7\w*|ppc64(?:le)?|powerpc\w*|riscv64|s390x|mips\w*)(?:$|[-._+])/.exec(
      release,
    );
  if (!m) return undefined;
  const w = m[1]!;
  const name = /^(?:amd64|x86_64|i[3-6]86|686)/.test(w)
    ? 'x86'
    : /^(?:arm64|aarch64)/.test(w)
      ? 'arm64'
      : /^arm/.test(w)
        ? 'arm'
        : /^(?:ppc|powerpc)/.test(w)
          ? 'powerpc'
          : /^riscv/.test(w)
            ? 'riscv'
            : /^s390/.test(w)
              ? 's390'
              : 'mips';
  return { name, ordering: ORDERING[name]!, from: `its release ${release}` };
}
