// The server's one thread answers every request (and runs the embedded database): a large document
// is checked and shaped a slice of records at a time, and the requests that arrived meanwhile are
// answered between two slices instead of after the whole document.
import { nextTurn } from '../next-turn.js';

/** Records handled between two turns of the event loop (about 10 ms of work for Kratos sessions). */
export const recordsPerSlice = 200;


/** `items.map(map)`, giving the event loop a turn after every slice of records. */
export async function mapInSlices<T, U>(items: readonly T[], map: (item: T, index: number) => U): Promise<U[]> {
  const mapped: U[] = [];
  for (let index = 0; index < items.length; index++) {
    if (index > 0 && index % recordsPerSlice === 0) await nextTurn();
    mapped.push(map(items[index]!, index));
  }
  return mapped;
}
