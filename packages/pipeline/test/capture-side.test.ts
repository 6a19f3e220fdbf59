/**
 * How `kreplay ci` prepares a captured side: the pre-check loads the profile the capture will use.
 * Until 2026-12-07 (session 41) it loaded the 6.1 default whatever the kernel, while a 6.12 side's
 * capture used kernel-configs/capture/linux-6.12/: that profile was first read after the other
 * side's capture had run, minutes in, instead of in the first second.
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { checkCaptureSide } from '../src/capture-side.js';

describe('checkCaptureSide', () => {
  it("checks the profile of the kernel's release, as the capture uses it", async () => {
    expect(await checkCaptureSide({ kernel: 'debian-6.12', workload: 'odirect-race' })).toBe(
      path.join('kernel-configs', 'capture', 'linux-6.12', 'odirect-race.yaml'),
    );
    expect(await checkCaptureSide({ kernel: 'debian-6.12:6.12.117+deb12-amd64', workload: 'truncate-racer' })).toBe(
      path.join('kernel-configs', 'capture', 'linux-6.12', 'truncate-racer.yaml'),
    );
    expect(await checkCaptureSide({ kernel: 'debian', workload: 'odirect-race' })).toBe(path.join('kernel-configs', 'capture', 'odirect-race.yaml'));
    expect(await checkCaptureSide({ kernel: 'debian-6.12', workload: 'odirect-race', profile: 'kernel-configs/capture/odirect-race.yaml' })).toBe(
      'kernel-configs/capture/odirect-race.yaml',
    );
  });
});
