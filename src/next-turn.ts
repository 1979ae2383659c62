// The server's one thread answers every request: long work (a start's modules, an import's records)
// gives the event loop a turn now and then, so requests that arrived meanwhile are answered.

/** Resolves after the I/O and timers already due have run. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
