/** KTAP and KCIDB renderings of a diff, an explorer run and a `kreplay ci` run (a replay's are in renderReplay). */
import type { DiffResult } from '@kreplay/diff';
import { formatKcidb, type KcidbOptions } from './kcidb.js';
import { formatKtap } from './ktap.js';
import { ciTests, diffTests, exploreTests, type CiSummary, type DiffTestOptions, type ExploreSummary } from './runs.js';

export const diffToKtap = (d: DiffResult, o: DiffTestOptions = {}): string => formatKtap(diffTests(d, o));
export const diffToKcidb = (d: DiffResult, o: DiffTestOptions & KcidbOptions = {}): string => formatKcidb(diffTests(d, o), o);
export const exploreToKtap = (x: ExploreSummary): string => formatKtap(exploreTests(x));
export const exploreToKcidb = (x: ExploreSummary, o: KcidbOptions = {}): string => formatKcidb(exploreTests(x), o);
export const ciToKtap = (c: CiSummary): string => formatKtap(ciTests(c));
export const ciToKcidb = (c: CiSummary, o: KcidbOptions = {}): string => formatKcidb(ciTests(c), o);
