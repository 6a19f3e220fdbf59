// @kreplay/capture: boot a kernel under QEMU, run a racing workload, collect its ftrace trace.
export * from './cpio.js';
export * from './modules.js';
export * from './fetch-offsets.js';
export * from './profile.js';
export * from './guest-script.js';
export * from './initramfs.js';
export * from './kernel.js';
export * from './formats.js';
export * from './workloads.js';
export * from './console.js';
export * from './qemu.js';
export * from './meta.js';
export * from './capture.js';
export * from './outcome.js';
export * from './tools.js';
export * from './built-kernel.js';
