// A large document is checked a slice of records at a time: what else is due runs in between.
import { describe, expect, it } from 'vitest';
import { mapInSlices, recordsPerSlice } from '../../src/import/slices.js';

describe('mapInSlices', () => {
  it('maps in order, and lets the event loop run after every slice', async () => {
    const items = Array.from({ length: recordsPerSlice * 3 + 1 }, (_, i) => i);
    const seen: string[] = [];
    let turns = 0;
    const tick = () =>
      setImmediate(() => {
        turns++;
        if (turns < 10) tick();
      });
    tick();
    const mapped = await mapInSlices(items, (item, index) => {
      if (index % recordsPerSlice === 0) seen.push(`slice at ${index} after ${turns} turns`);
      return item * 2;
    });
    expect(mapped).toEqual(items.map((i) => i * 2));
    // Other work ran before each slice after the first.
    expect(seen).toEqual(['slice at 0 after 0 turns', `slice at ${recordsPerSlice} after 1 turns`, `slice at ${recordsPerSlice * 2} after 2 turns`, `slice at ${recordsPerSlice * 3} after 3 turns`]);
  });

  it('stops at the first record that throws', async () => {
    let mapped = 0;
    const failing = mapInSlices([1, 2, 3], (item) => {
      if (item === 2) throw new Error('record 2 is bad');
      mapped++;
      return item;
    });
    await expect(failing).rejects.toThrow('record 2 is bad');
    expect(mapped).toBe(1);
  });
});
