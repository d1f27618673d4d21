// One Compose file as read from disk: its YAML document with positions (the `yaml` package's
// Document and LineCounter), its plain value, and the way back from a key path
// (`services.web.ports[0]`) to the line and column it was written on, so every error about the
// file names where to look. Loaded lazily by the compose commands only (the package costs start-up).

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { BerthError } from '../errors.js';
import { showPath, type PathSeg } from '../common/key-path.js';

export { showPath, type PathSeg };

export class ComposeFileError extends BerthError {
  constructor(message: string) {
    super('invalid', message);
  }
}

export class Source {
  private constructor(
    /** The path given (absolute). */
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    /** The plain value (anchors, aliases and `<<` merges resolved). */
    readonly value: unknown,
  ) {}

  static async read(file: string): Promise<Source> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ComposeFileError(code === 'ENOENT' ? `open ${file}: no such file or directory` : `read ${file}: ${(e as Error).message}`);
    }
    return Source.parse(file, text);
  }

  static parse(file: string, text: string): Source {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false });
    const bad = doc.errors[0];
    if (bad) {
      const at = lines.linePos(bad.pos[0]);
      throw new ComposeFileError(`${file}:${at.line}:${at.col}: ${bad.message.split('\n')[0]}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 10_000 });
    } catch (e) {
      throw new ComposeFileError(`${file}: ${(e as Error).message}`);
    }
    return new Source(file, doc, lines, value ?? {});
  }

  /** `file:line:col` of the node at `path` (or the nearest enclosing one that is in the text); with `key`, of the key itself. */
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
    if (!at) return `${this.file}`;
    const pos = this.lines.linePos(at[0]);
    return `${this.file}:${pos.line}:${pos.col}`;
  }

  /** An error about the node at `path`: `file:line:col: services.web.image: what`. */
  error(path: PathSeg[], what: string, key = false): ComposeFileError {
    return new ComposeFileError(`${this.where(path, key)}: ${showPath(path)}: ${what}`);
  }

  get name(): string {
    return basename(this.file);
  }
}
