// Work that runs one at a time and is asked for more often than it can run: the event feed's reads,
// the webhook worker's claims, the NOTIFY after commits. Asked while it runs, it runs once more when
// it ends, however often it was asked meanwhile.
export class CoalescedTask {
  private running: Promise<void> | undefined;
  private again = false;

  /** `work` decides for itself whether there is anything to do (it runs again only when asked). */
  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Runs the work now, or once more after the run in progress. */
  run(): void {
    if (this.running) {
      this.again = true;
      return;
    }
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
}
