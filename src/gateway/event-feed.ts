/**
 * Flow control of one SubscribeEvents stream: at most `window` events are sent and not yet
 * acknowledged (PluginEventAck); more wait in a buffer of `capacity`, and when that is full the
 * oldest is dropped and counted. A slow subscriber thus costs a bounded amount of memory and
 * never slows the host or other subscribers. The policy is drop-oldest.
 */
export class EventFeed<T> {
  private readonly send: (event: T) => void;
  private readonly window: number;
  private readonly capacity: number;
  private readonly onDrop: () => void;
  private readonly buffer: T[] = [];
  private unacked = 0;
  dropped = 0;

  constructor(options: { send: (event: T) => void; window: number; capacity: number; onDrop: () => void }) {
    this.send = options.send;
    this.window = options.window;
    this.capacity = options.capacity;
    this.onDrop = options.onDrop;
  }

  push(event: T): void {
    if (this.unacked < this.window) {
      this.unacked++;
      this.send(event);
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.buffer.shift();
      this.dropped++;
      this.onDrop();
    }
    this.buffer.push(event);
  }

  ack(): void {
    this.unacked = Math.max(0, this.unacked - 1);
    const next = this.buffer.shift();
    if (next !== undefined) {
      this.unacked++;
      this.send(next);
    }
  }
}
