export { KreplayCommand, EXIT, writeStdout, writeStdoutChunk } from './base.js';
