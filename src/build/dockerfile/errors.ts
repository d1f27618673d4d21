// The one error the Dockerfile's parser and expander throw: an invalid-request BerthError that
// names the file and line (`Dockerfile:7: unknown instruction: RUNN`), keeping both apart too so
// a caller can print Docker's own shape (`dockerfile parse error on line 7: …`).

import { BerthError } from '../../errors.js';

export class DockerfileError extends BerthError {
  /** The file as the build names it (`Dockerfile`, the `-f` path). */
  readonly file: string;
  /** 1-based line of the instruction at fault; absent for faults of the whole file. */
  readonly line?: number;
  /** The fault alone, in Docker's words where it has them. */
  readonly reason: string;
  constructor(file: string, line: number | undefined, reason: string) {
    super('invalid', line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`);
    this.name = 'DockerfileError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

/** A fault found while reading one instruction, before its file and line are known; parse.ts places it. */
export class InstructionError extends Error {}

export const fault = (reason: string) => new InstructionError(reason);
