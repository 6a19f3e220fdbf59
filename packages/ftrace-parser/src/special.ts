/**
 * Payloads the kernel prints without an `event:` name in front (kernel/trace/trace_output.c,
 * trace_syscalls.c): syscall entry and exit, the wakeup tracers' wake and switch records,
 * hwlat records. Each is recognised by its exact printed shape and named after the event
 * it prints (`syscalls:sys_enter_ioctl`, `ftrace:wakeup`, `ftrace:context_switch`,
 * `ftrace:hwlat`), with the kernel's field names.
 */
import type { Fields } from '@kreplay/core';
import { decodeHexDigits, decodeIntegerRange } from './values.js';

export interface SpecialEvent {
  event: string;
  system: string;
  fields: Fields;
}

const U64_SIGN = 1n << 63n;

/** A long printed with `0x%lx`: 16 hex digits with the top bit set is a negative long (an errno). */
function longFromHex(s: string): number | bigint | undefined {
  const v = decodeHexDigits(s);
  if (v === undefined) return undefined;
  if (typeof v === 'bigint' && s.length === 16 && v >= U64_SIGN) {
    const signed = v - (1n << 64n);
    return signed >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed;
  }
  return v;
}

/**
 * `sys_ioctl(fd: ff, cmd: 5410, arg: 7ffe0babe8fc)` (print_syscall_enter: `%s: %lx` joined
 * by `, `), `sys_getpid()`, `sys_ioctl -> 0x0` (print_syscall_exit: `%s -> 0x%lx`).
 */
export function decodeSyscall(s: string, start: number, end: number, wantFields: boolean): SpecialEvent | undefined {
  let i = start + 4;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95)) break;
    i++;
  }
  if (i === start + 4 || i >= end) return undefined;
  const name = s.slice(start + 4, i);
  if (s.charCodeAt(i) === 40) {
    let close = end;
    while (close > i && s.charCodeAt(close - 1) === 32) close--;
    if (s.charCodeAt(close - 1) !== 41) return undefined;
    const fields: Fields = {};
    const inner = s.slice(i + 1, close - 1).trim();
    if (inner !== '') {
      for (const part of inner.split(', ')) {
        const colon = part.indexOf(': ');
        if (colon <= 0) return undefined;
        const v = decodeHexDigits(part, colon + 2);
        if (v === undefined) return undefined;
        if (wantFields) fields[part.slice(0, colon)] = v;
      }
    }
    return { event: `sys_enter_${name}`, system: 'syscalls', fields };
  }
  if (!s.startsWith(' -> 0x', i)) return undefined;
  let e = end;
  while (e > i + 6 && s.charCodeAt(e - 1) === 32) e--;
  const ret = longFromHex(s.slice(i + 6, e));
  if (ret === undefined) return undefined;
  return { event: `sys_exit_${name}`, system: 'syscalls', fields: wantFields ? { ret } : {} };
}

/**
 * The wakeup tracers' records (trace_ctxwake_print): ` %7d:%3d:%c %s [%03d] %7d:%3d:%c %s`
 * with `==>` for a context switch and `  +` for a wakeup; and trace-cmd's rendering of the
 * same ftrace events, `%u:%u:%u  ==> %u:%u:%u [%03u]` / `==+`.
 */
const CTXWAKE = /^(\d+):\s*(-?\d+):(\S)\s+(==>|\+)\s+\[(\d+)\]\s+(\d+):\s*(-?\d+):(\S)(?: (.*?))?\s*$/;
const CTXWAKE_TRACE_CMD = /^(\d+):(\d+):(\d+)\s+(==>|==\+)\s+(\d+):(\d+):(\d+)\s+\[(\d+)\]\s*$/;

export function decodeCtxWake(s: string, start: number, end: number, wantFields: boolean): SpecialEvent | undefined {
  const text = s.slice(start, end);
  const m = CTXWAKE.exec(text);
  if (m) {
    const event = m[4] === '==>' ? 'context_switch' : 'wakeup';
    if (!wantFields) return { event, system: 'ftrace', fields: {} };
    const fields: Fields = {
      prev_pid: Number(m[1]),
      prev_prio: Number(m[2]),
      prev_state: m[3]!,
      next_cpu: Number(m[5]),
      next_pid: Number(m[6]),
      next_prio: Number(m[7]),
      next_state: m[8]!,
    };
    if (m[9] !== undefined) fields.next_comm = m[9];
    return { event, system: 'ftrace', fields };
  }
  const t = CTXWAKE_TRACE_CMD.exec(text);
  if (!t) return undefined;
  const event = t[4] === '==>' ? 'context_switch' : 'wakeup';
  if (!wantFields) return { event, system: 'ftrace', fields: {} };
  return {
    event,
    system: 'ftrace',
    fields: {
      prev_pid: Number(t[1]),
      prev_prio: Number(t[2]),
      prev_state: Number(t[3]),
      next_pid: Number(t[5]),
      next_prio: Number(t[6]),
      next_state: Number(t[7]),
      next_cpu: Number(t[8]),
    },
  };
}

/**
 * hwlat (trace_hwlat_print): `#%-5u inner/outer(us): %4llu/%-5llu ts:%lld.%09ld count:%d`
 * then ` nmi-total:%llu nmi-count:%u` when NMIs hit (older kernels: no count).
 */
const HWLAT = /^#(\d+)\s+inner\/outer\(us\):\s*(\d+)\/(\d+)\s+ts:(\d+\.\d+)((?:\s+[a-z-]+:\d+)*)\s*$/;

export function decodeHwlat(s: string, start: number, end: number, wantFields: boolean): SpecialEvent | undefined {
  const m = HWLAT.exec(s.slice(start, end));
  if (!m) return undefined;
  if (!wantFields) return { event: 'hwlat', system: 'ftrace', fields: {} };
  const fields: Fields = { seqnum: Number(m[1]), duration: Number(m[2]), outer_duration: Number(m[3]), timestamp: m[4]! };
  for (const kv of m[5]!.trim().split(/\s+/)) {
    if (kv === '') continue;
    const colon = kv.indexOf(':');
    const key = kv.slice(0, colon);
    const v = decodeIntegerRange(kv, colon + 1, kv.length)!;
    fields[key === 'nmi-total' ? 'nmi_total_ts' : key === 'nmi-count' ? 'nmi_count' : key] = v;
  }
  return { event: 'hwlat', system: 'ftrace', fields };
}
