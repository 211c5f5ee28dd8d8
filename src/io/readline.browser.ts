// node:readline's createInterface for the page: the lines of a stream's chunks (\n or \r\n ends a line).
export function createInterface(o: { input: AsyncIterable<unknown>; crlfDelay?: number }) {
  let closed = false;
  return {
    close() { closed = true; },
    async *[Symbol.asyncIterator]() {
      let rest = '';
      for await (const chunk of o.input) {
        const lines = (rest + String(chunk)).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (closed) return;
          yield line.endsWith('\r') ? line.slice(0, -1) : line;
        }
      }
      if (rest && !closed) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
    },
  };
}
