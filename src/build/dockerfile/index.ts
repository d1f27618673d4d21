// The Dockerfile language, for the builder: parse a Dockerfile into typed stages and
// instructions (parse.ts, types.ts), and expand an instruction's words with the variables in
// scope when the builder reaches it (lex.ts). Pure logic: no file system, no images.

export * from './types.js';
export { parseDockerfile, type ParseOptions } from './parse.js';
export { DockerfileError } from './errors.js';
export { processWord, LexError, type Lookup, type LexOptions, type LexResult } from './lex.js';
