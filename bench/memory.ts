// The memory cost of idle containers per engine (issue 5: "the memory cost of 100 idle
// containers per engine, daemon plus per-container monitors, as PSS"): bench/density.ts with
// 100 containers unless BENCH_N says otherwise. `npm run build && npm run bench:memory`.
import { densityBench } from './density.js';

densityBench(100, 'memory').catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
