import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { shippedPath } from '@kreplay/core';

/** A package folder with a module in dist/; returns the module's URL. */
function pkg(dir: string): string {
  mkdirSync(path.join(dir, 'dist'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{}');
  return pathToFileURL(path.join(dir, 'dist', 'index.js')).href;
}

describe('shippedPath: shipped data from a clone and from an install', () => {
  it('finds kernel-configs/probes at the repository root from a package in a clone', () => {
    const repo = mkdtempSync(path.join(tmpdir(), 'kreplay-clone-'));
    mkdirSync(path.join(repo, 'kernel-configs', 'probes'), { recursive: true });
    const url = pkg(path.join(repo, 'packages', 'replay'));
    expect(shippedPath(url, 'kernel-configs/probes')).toBe(path.join(repo, 'kernel-configs', 'probes'));
  });

  it('prefers the copy inside the installed package', () => {
    const prefix = mkdtempSync(path.join(tmpdir(), 'kreplay-install-'));
    const dir = path.join(prefix, 'lib', 'node_modules', '@kreplay', 'replay');
    const url = pkg(dir);
    mkdirSync(path.join(dir, 'kernel-configs', 'probes'), { recursive: true });
    expect(shippedPath(url, 'kernel-configs/probes')).toBe(path.join(dir, 'kernel-configs', 'probes'));
  });

  it('names the in-package path when the data is nowhere, and never looks above a folder not called packages', () => {
    const prefix = mkdtempSync(path.join(tmpdir(), 'kreplay-install-'));
    mkdirSync(path.join(prefix, 'kernel-configs', 'probes'), { recursive: true });
    const dir = path.join(prefix, 'node_modules', 'replay');
    const url = pkg(dir);
    expect(shippedPath(url, 'kernel-configs/probes')).toBe(path.join(dir, 'kernel-configs', 'probes'));
  });

  it("resolves this repository's probe maps from the replay package", () => {
    const here = pathToFileURL(path.resolve('packages/replay/src/probe-maps.ts')).href;
    expect(shippedPath(here, 'kernel-configs/probes')).toBe(path.resolve('kernel-configs/probes'));
  });
});
