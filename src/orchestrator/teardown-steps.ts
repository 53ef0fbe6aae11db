/**
 * What was made, undone in reverse order: each step is added as its resource is made, so a start
 * that fails half-way removes exactly what exists, and a stop removes all of it (a plugin
 * instance's snapshot, directories, gateway, container and client; the orchestrator's
 * connections). Runs once; later calls get the same promise.
 */
export class TeardownSteps {
  private readonly steps: Array<() => Promise<void> | void> = [];
  private running: Promise<void> | undefined;

  /** Adds the step that undoes the resource just made. */
  defer(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  /** Whether the teardown has started (an instance no longer serves). */
  get begun(): boolean {
    return this.running !== undefined;
  }

  run(): Promise<void> {
    this.running ??= this.unwind();
    return this.running;
  }

  private async unwind(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step();
  }
}
