import { describe, expect, it } from '@jest/globals';
import { countsFromStats } from '../src/metrics.js';

describe('behaviour counters from replay stats', () => {
  it('counts fault retries from VM_FAULT_RETRY returns and -EBUSY invalidates', () => {
    const c = countsFromStats({
      byOp: { fault_begin: 10, invalidate_begin: 4, pte_map: 9 },
      returns: { filemap_fault: { '0x200': 6, '0x400': 3, '0x2': 1 }, invalidate_inode_pages2_range: { '0': 2, '-16': 1, '-5': 1 } },
    });
    expect(c).toMatchObject({ faults: 10, fault_retries: 3, fault_errors: 1, invalidates: 4, invalidate_failures: 2, invalidate_ebusy: 1, pte_maps: 9 });
  });
});
