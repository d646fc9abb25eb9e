/**
 * The bench's thread CPU clock (scripts/bench/thread_clock.ts): it parses what Linux writes and counts only this
 * thread. No durations are asserted, only orderings that hold on any machine load.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuMs } from '../../scripts/bench/harness.js';
import { haveThreadClock, parseSchedstat, threadCpuMs } from '../../scripts/bench/thread_clock.js';

describe('parseSchedstat', () => {
  it('reads the first field, ns on CPU, as ms', () => {
    expect(parseSchedstat('1637910912 4043456748 703\n')).toBe(1637.910912);
  });
  it('names the file and what it got when the line is not three counters', () => {
    expect(() => parseSchedstat('')).toThrow(/schedstat: expected .* got ""/);
    expect(() => parseSchedstat('12 34\n')).toThrow(/got "12 34\\n"/);
  });
});

describe.runIf(existsSync('/proc/thread-self/schedstat'))('threadCpuMs on Linux', () => {
  it('is available, never goes back, and counts no more than the whole process over the same interval', () => {
    expect(haveThreadClock()).toBe(true);
    let x = 0;
    for (let k = 0; k < 20; k++) {
      const p0 = cpuMs();
      const t0 = threadCpuMs()!;
      for (let i = 0; i < 200_000; i++) x += Math.sqrt(i);
      const t1 = threadCpuMs()!;
      const p1 = cpuMs();
      expect(t1).toBeGreaterThanOrEqual(t0);
      // the thread's interval lies inside the process's; 2 µs: process.cpuUsage's µs rounding at both ends
      expect(t1 - t0).toBeLessThanOrEqual(p1 - p0 + 0.002);
    }
    expect(x).toBeGreaterThan(0);
  });
});
