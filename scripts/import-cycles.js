// Fails when the relative imports under src/ (type-only ones included, which ESLint's
// import-x/no-cycle does not follow) form a circle; prints each circle's files. Part of
// `npm run lint`: DESIGN.md's layering allows no circles, even through types.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const files = [];
(function walk(d) {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(resolve(p));
  }
})('src');

const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?'(\.[^']+)'/gms;
const graph = new Map();
for (const f of files) {
  const deps = [];
  for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
    const ts = resolve(dirname(f), m[1]).replace(/\.js$/, '.ts');
    if (existsSync(ts)) deps.push(ts);
  }
  graph.set(f, deps);
}

// Tarjan's strongly connected components: a component of more than one file is a circle.
let next = 0;
const index = new Map(),
  low = new Map(),
  stack = [],
  onStack = new Set(),
  circles = [];
function visit(v) {
  index.set(v, next);
  low.set(v, next);
  next++;
  stack.push(v);
  onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const c = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    c.push(w);
  } while (w !== v);
  if (c.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(c);
}
for (const v of graph.keys()) if (!index.has(v)) visit(v);

for (const c of circles)
  console.error(
    `import circle: ${c
      .map((f) => relative('.', f))
      .sort()
      .join(' ')}`,
  );
if (circles.length) process.exit(1);
console.log(`import-cycles: ${files.length} files under src/, no circles`);
