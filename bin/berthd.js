#!/usr/bin/env node
// berthd: the daemon serving the Docker Engine API (src/api/server/daemon.ts). Not bundled: it
// starts once, and its CommonJS dependencies (tar-stream) do not bundle as ESM.
import { main } from '../dist/src/api/server/daemon.js';

process.exit(await main(process.argv.slice(2)));
