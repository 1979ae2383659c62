// Work that runs one at a time and is asked for more often than it can run: the event feed's reads,
// the webhook worker's claims, the NOTIFY after commits. Asked while it runs, it runs once more when
// it ends, however often it was asked meanwhile. With a minimum interval, a run starts at least that
// long after the previous one started: a burst of asks shares one run (one statement for many
// commits), at the cost of at most that much delay for the asks that come during the interval.
export class CoalescedTask {
  private running: Promise<void> | undefined;
  private again = false;
  private waiting: NodeJS.Timeout | undefined;
  private startedAt = -Infinity;

  /** `work` decides for itself whether there is anything to do (it runs again only when asked). */
  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly minIntervalMs = 0,
  ) {}

  /** Runs the work now (or when the minimum interval has passed), or once more after the run in progress. */
  run(): void {
    if (this.waiting) return; // the run it waits for starts after this ask
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = this.startedAt + this.minIntervalMs - performance.now();
    if (wait > 0) {
      this.waiting = setTimeout(() => {
        this.waiting = undefined;
        this.start();
      }, wait);
      // A pending run never holds the process open (a stop settles what is running).
      this.waiting.unref();
      return;
    }
    this.start();
  }

  private start(): void {
    this.startedAt = performance.now();
    this.running = this.work()
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.run();
        }
      });
  }

  /** The run in progress, if any (a stop waits for it). */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Drops a run waiting out the minimum interval (a stop whose work would do nothing now). */
  cancel(): void {
    clearTimeout(this.waiting);
    this.waiting = undefined;
  }

  /**
   * Starts a run waiting out the minimum interval now, and resolves when none is in progress or
   * asked for: a stop that must not drop the last ask (the NOTIFY after the last commits).
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.waiting) {
        this.cancel();
        this.start();
      }
      if (!this.running) return;
      await this.running;
    }
  }
}
