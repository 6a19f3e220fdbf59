/** The flags of `--format kcidb` every command that writes it shares (docs/formats.md). */
import { Flags } from '@oclif/core';
import { pathToFileURL } from 'node:url';
import type { KcidbOptions } from '@kreplay/report';

export const KERNEL_CI_FLAGS = {
  'kcidb-origin': Flags.string({ default: 'kreplay', description: 'kcidb: the CI system\'s name in ids and "origin" (lower-case letters, digits, _)' }),
  'artifacts-url': Flags.string({ description: 'kcidb: URL the output files are published under (log_url, output_files); default: file: URLs of this folder' }),
};

/** What `--format kcidb` needs from those flags; relative file names resolve against the artifacts URL (default: the working folder). */
export function kcidbOptions(flags: { 'kcidb-origin': string; 'artifacts-url'?: string | undefined }, folder = process.cwd()): KcidbOptions {
  const base = flags['artifacts-url'] ?? pathToFileURL(folder).href;
  return { origin: flags['kcidb-origin'], artifactsUrl: base.endsWith('/') ? base : `${base}/` };
}
