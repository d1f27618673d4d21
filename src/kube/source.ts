// A Kubernetes manifest file as read: its YAML documents (`---` separated) with positions (the
// `yaml` package's Documents and one LineCounter), each document's plain value, and the way back
// from a key path (`spec.template.spec.containers[0].ports[0]`) to the line and column it was
// written on, so every error about a manifest names the file, the document and where to look.

import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { BerthError } from '../errors.js';
import { showPath, type PathSeg } from '../common/key-path.js';

export { showPath, type PathSeg };

export class KubeFileError extends BerthError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/** One document of the file: its index (from 0, as `kubectl` counts them), and where its nodes are. */
export class ManifestDoc {
  constructor(
    readonly file: string,
    readonly index: number,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    /** The plain value (anchors and aliases resolved). */
    readonly value: unknown,
  ) {}

  /** `Deployment "web"`, or what the document says of itself so far. */
  get title(): string {
    const v = (this.value ?? {}) as Record<string, unknown>;
    const kind = typeof v.kind === 'string' ? v.kind : 'object';
    const name = (v.metadata as Record<string, unknown> | undefined)?.name;
    return typeof name === 'string' ? `${kind} "${name}"` : kind;
  }

  /** `line:col` of the node at `path` (or the nearest enclosing one written in the text); with `key`, of the key. */
  where(path: PathSeg[], key = false): string {
    let node: Node | null | undefined = this.doc.contents as Node | null;
    let keyNode: Node | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        keyNode = pair.key as Node;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
        keyNode = undefined;
        node = node.items[seg] as Node;
      } else break;
    }
    const at = (key && keyNode?.range) || node?.range || keyNode?.range;
    const pos = this.lines.linePos(at ? at[0] : (this.doc.range?.[0] ?? 0));
    return `${pos.line}:${pos.col}`;
  }

  /** `file:12:7: document 1 (Deployment "web"): spec.replicas: what`. */
  error(path: PathSeg[], what: string, key = false): KubeFileError {
    return new KubeFileError(`${this.file}:${this.where(path, key)}: document ${this.index} (${this.title}): ${showPath(path)}: ${what}`);
  }
}

/** The documents of `text` (empty ones, as a trailing `---` leaves, are skipped). */
export function parseManifest(file: string, text: string): ManifestDoc[] {
  const lines = new LineCounter();
  // YAML 1.1, as Kubernetes reads manifests (go-yaml v2): 0644 is octal, yes/no are booleans.
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, version: '1.1' });
  if (!Array.isArray(docs)) return [];
  const out: ManifestDoc[] = [];
  for (const [i, doc] of docs.entries()) {
    const bad = doc.errors[0];
    if (bad) {
      const at = lines.linePos(bad.pos[0]);
      throw new KubeFileError(`${file}:${at.line}:${at.col}: document ${i}: ${bad.message.split('\n')[0]}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 10_000 });
    } catch (e) {
      throw new KubeFileError(`${file}: document ${i}: ${(e as Error).message}`);
    }
    if (value === null || value === undefined) continue;
    out.push(new ManifestDoc(file, i, doc, lines, value));
  }
  return out;
}

/** The documents of a file, or of standard input for `-`. */
export async function readManifest(file: string, stdin: () => Promise<string>): Promise<ManifestDoc[]> {
  if (file === '-') return parseManifest('-', await stdin());
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KubeFileError(code === 'ENOENT' ? `open ${file}: no such file or directory` : `read ${file}: ${(e as Error).message}`);
  }
  return parseManifest(file, text);
}
