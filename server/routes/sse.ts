import type { SSEStreamingApi } from 'hono/streaming';

/** How often an idle event stream sends a comment, so proxies and load balancers keep it open. */
export const SSE_HEARTBEAT_MS = 15_000;

/**
 * Lets a streaming loop sleep until something happens: `wait(ms)` resolves at the next `wake()`
 * (or at once if one came since the last wait), or after `ms`.
 */
export class Wakeup {
  private pending = false;
  private waiter: (() => void) | undefined;

  wake(): void {
    this.pending = true;
    this.waiter?.();
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiter = done;
    });
  }
}

/** An SSE comment line: ignored by clients, keeps the connection alive. */
export async function heartbeat(stream: SSEStreamingApi): Promise<void> {
  await stream.write(': keep-alive\n\n');
}
