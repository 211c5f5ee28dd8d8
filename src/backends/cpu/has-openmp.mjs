// Prints 1 when the C++ compiler accepts -fopenmp (and links a test program), else 0.
// binding.gyp calls it to decide whether to build the native backend with OpenMP threads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'mm-omp-'));
try {
  const src = join(dir, 't.cc');
  writeFileSync(src, '#include <omp.h>\nint main() { int n = 0;\n#pragma omp parallel reduction(+:n)\n n += 1;\n return n > 0 ? 0 : 1; }\n');
  const cxx = process.env.CXX || 'c++';
  const r = spawnSync(cxx, ['-fopenmp', src, '-o', join(dir, 't')], { stdio: 'ignore' });
  process.stdout.write(r.status === 0 ? '1' : '0');
} catch {
  process.stdout.write('0');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
