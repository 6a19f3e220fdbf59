// @kreplay/capture: boot a kernel under QEMU, run a racing workload, collect its ftrace trace.
// (Modules are added as they land; `kreplay kernel build` code lives under ./build/.)
export const CAPTURE_PACKAGE = '@kreplay/capture';
