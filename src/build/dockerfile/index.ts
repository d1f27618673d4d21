// The Dockerfile language, for the builder: parse a Dockerfile into typed stages and
// instructions (parse.ts, types.ts), and expand an instruction's words with the variables in
// scope when the builder reaches it (expand.ts, over lex.ts), and give a RUN's heredocs to the
// shell (run-heredoc.ts). Pure logic: no file system, no images.

export * from './types.js';
export { parseDockerfile, parseOnbuildTrigger, type ParseOptions } from './parse.js';
export { expandInstruction, expandFrom, contextOf, type ExpandContext, type ExpandOptions, type Expanded } from './expand.js';
export { runShellInput, HEREDOC_SCRIPT_DIR, type RunShellInput } from './run-heredoc.js';
export { DockerfileError } from './errors.js';
export { processWord, LexError, type Lookup, type LexOptions, type LexResult } from './lex.js';
