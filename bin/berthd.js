#!/usr/bin/env -S node --max-semi-space-size=2
// berthd: the daemon serving the Docker Engine API (src/api/server/daemon.ts). A young generation
// of 2 MB semi-spaces (V8 grows them to 16 MB, ~20 MB of RSS berthd does not need). Not bundled: it
// starts once, and its CommonJS dependencies (tar-stream) do not bundle as ESM.
import { main } from '../dist/src/api/server/daemon.js';

process.exit(await main(process.argv.slice(2)));
