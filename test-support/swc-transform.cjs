// @swc/jest, with the built-in globals the code under test reaches bound once per module.
//
// Jest runs every test file and the modules it imports in a vm context, and in a vm context a
// global (`Math`, `Map`, `Int32Array`, ...) is looked up through the context's interceptor on each
// use, where plain Node finds it in a cell: measured on Node 20, `Math.imul` in a loop 135 times
// slower, `new Int32Array(4)` and `Object.keys` 6-7 times, so an exhaustive search of the
// explorer cost about 4 times its CPU under jest (DEVELOPERS.md, "Test suite time", session 14).
// Each module gets `const { Math, ... } = globalThis;` on its first line (no new line, so the
// source map stays right): the same objects, found once. Only the test run sees this; the CLI
// and the packages' dist are not compiled by it.
'use strict';
const { createTransformer: swc } = require('@swc/jest');

const GLOBALS = [
  'Array',
  'ArrayBuffer',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'DataView',
  'Float32Array',
  'Float64Array',
  'Int16Array',
  'Int32Array',
  'Int8Array',
  'JSON',
  'Map',
  'Math',
  'Number',
  'Object',
  'Reflect',
  'Set',
  'String',
  'Symbol',
  'Uint16Array',
  'Uint32Array',
  'Uint8Array',
  'WeakMap',
  'WeakSet',
];
const PRELUDE = `const { ${GLOBALS.join(', ')} } = globalThis; `;

function createTransformer(options) {
  const inner = swc(options);
  return {
    ...inner,
    process: (src, filename, opts) => inner.process(PRELUDE + src, filename, opts),
    processAsync: (src, filename, opts) => inner.processAsync(PRELUDE + src, filename, opts),
    getCacheKey: (src, filename, ...rest) => `${inner.getCacheKey(src, filename, ...rest)}:globals-${GLOBALS.length}`,
  };
}

module.exports = { createTransformer };
