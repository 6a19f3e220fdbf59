/** The triage section of the HTML report: report text is escaped, the schedule is a table, runs are listed. */
import { describe, expect, it } from '@jest/globals';
import { reportToHtml } from '../src/html/report.js';

describe('HTML triage section', () => {
  it('escapes what a report says, draws the schedule table, and shows no run sections without runs', () => {
    const html = reportToHtml({
      title: 't',
      runs: [],
      triage: [
        {
          source: 'mail<1>.txt',
          splats: [
            {
              title: 'WARNING in <script>alert(1)</script>',
              kind: 'warning',
              facts: [['task', 'a&b']],
              frames: ['f+0x1/0x2 <img src=x>'],
              model: {
                status: 'schedule',
                because: 'on linux-2.6.15, w vs f reaches mapped-page-removed in 2 steps',
                threads: ['w (odirect_write)', 'f (fault)'],
                schedule: {
                  rule: 'mapped-page-removed',
                  threads: ['w', 'f'],
                  steps: [
                    { n: 1, thread: 1, label: 'set_pte_at' },
                    { n: 2, thread: 0, label: '__remove_from_page_cache', effect: 'M0[0] = ∅' },
                  ],
                },
              },
            },
          ],
          repro: { summary: 'the race was not caught in 2 run(s) on 6.1.0', runs: ['run 1: no findings'] },
        },
      ],
    });
    expect(html).toContain('Bug report triage');
    expect(html).not.toMatch(/<script>alert|<img src=x>/);
    expect(html).toContain('WARNING in &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a&amp;b');
    expect(html).toMatch(/<td class="n">2<\/td><td>__remove_from_page_cache<\/td><td><\/td><td>M0\[0\] = ∅<\/td>/);
    expect(html).toContain('the race was not caught in 2 run(s) on 6.1.0');
    expect(html).not.toContain('<h2>Summary</h2>');
  });
});
