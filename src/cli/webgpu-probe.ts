// A program, run in a child process by backends/webgpu/adapter.ts's probeAdapter: asks Dawn for its
// adapter and prints the summary as one JSON line, or {"error": ...}. A child, so that Dawn's driver
// warnings stay out of the user's output; it exits itself because Dawn keeps the event loop alive.
import { describeAdapter } from '../backends/webgpu/describe.js';

try {
  const { create, globals } = await import('webgpu' as string) as { create: (o: string[]) => GPU; globals: object };
  Object.assign(globalThis, globals);
  const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
  console.log(JSON.stringify(adapter ? describeAdapter(adapter.info) : { error: 'no WebGPU adapter was found' }));
} catch (e) {
  console.log(JSON.stringify({ error: (e as Error).message.split('\n')[0] }));
}
process.exit(0);
