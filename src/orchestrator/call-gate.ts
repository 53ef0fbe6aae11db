import { SandboxError } from '../errors/index.ts';

/**
 * Holds host → plugin calls while a reload hands over from one instance to the next: a closed
 * gate makes callers wait (within their deadline) instead of failing.
 */
export class CallGate {
  private waiters: Array<() => void> = [];
  private closed = false;

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
    this.waiters.splice(0).forEach((wake) => wake());
  }

  /** Resolves when the gate is open; rejects with TIMEOUT at `deadlineMs`. */
  async pass(deadlineMs: number, what: string): Promise<void> {
    if (!this.closed) return;
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new SandboxError('TIMEOUT', `${what} waited for a reload past its deadline`));
      }, deadlineMs - Date.now());
      this.waiters.push(wake);
    });
  }
}
