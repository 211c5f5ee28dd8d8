// setImmediate for pages: the trainer yields with it between steps so a stop request is noticed.
// A MessageChannel message runs as soon as the event loop is free (no 4 ms clamp as setTimeout).
const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
if (!g.setImmediate) {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  g.setImmediate = (fn: () => void) => {
    queue.push(fn);
    channel.port2.postMessage(0);
  };
}

/** Resolves once pending messages (a stop click) have been handled. */
export const nextTick = (): Promise<void> => new Promise((r) => (globalThis as unknown as { setImmediate: (fn: () => void) => void }).setImmediate(r));
