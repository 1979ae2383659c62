// Work asked for more often than it runs: one run at a time, one more for every burst of asks during
// a run, and with a minimum interval, runs that start at least that far apart.
import { describe, expect, it } from 'vitest';
import { CoalescedTask } from '../src/coalesced-task.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Node's timers count from the event loop's cached clock, which may lag performance.now() by a
// few milliseconds: a timer can end that much early by performance.now().
const timerSlackMs = 5;

/** A task whose runs take `runMs` and record when they started. */
function recorded(runMs: number, minIntervalMs?: number) {
  const starts: number[] = [];
  const task = new CoalescedTask(
    async () => {
      starts.push(performance.now());
      await sleep(runMs);
    },
    (error) => {
      throw error;
    },
    minIntervalMs,
  );
  return { task, starts };
}

describe('CoalescedTask', () => {
  it('runs at once when idle, and once more after a run however often it was asked meanwhile', async () => {
    const { task, starts } = recorded(20);
    task.run();
    expect(starts).toHaveLength(1);
    for (let i = 0; i < 5; i++) task.run();
    await sleep(100);
    expect(starts).toHaveLength(2);
    await task.settled();
  });

  it('with a minimum interval, a burst of asks shares one run that starts that long after the last one started', async () => {
    const { task, starts } = recorded(1, 50);
    task.run();
    expect(starts).toHaveLength(1); // the first ask is not delayed
    await sleep(5); // the run has ended; these asks wait for the interval
    for (let i = 0; i < 5; i++) task.run();
    expect(starts).toHaveLength(1);
    await sleep(100);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(50 - timerSlackMs);
    // Asked again long after: at once.
    await sleep(60);
    task.run();
    expect(starts).toHaveLength(3);
    await task.settled();
  });

  it('with a minimum interval, asks during a run get one more run, no sooner than the interval', async () => {
    const { task, starts } = recorded(10, 40);
    task.run();
    task.run();
    task.run();
    await sleep(120);
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(40 - timerSlackMs);
  });

  it('flushes an ask waiting out the interval at once, and cancels one that need not run', async () => {
    const { task, starts } = recorded(1, 10_000);
    task.run();
    await task.settled();
    task.run(); // waits out the 10 s interval
    expect(starts).toHaveLength(1);
    await task.flush();
    expect(starts).toHaveLength(2);
    task.run();
    task.cancel();
    await sleep(20);
    await task.flush();
    expect(starts).toHaveLength(2);
  });
});
