/** A worker thread of checkFiles(): checks one file per message. */
import { parentPort } from 'node:worker_threads';
import { checkFile, type FileJob } from './run.js';

parentPort?.on('message', (m: { id: number; job: FileJob }) => {
  void checkFile(m.job).then((outcome) => parentPort?.postMessage({ id: m.id, outcome }));
});
