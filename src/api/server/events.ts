// GET /events: the engine's events as a stream of JSON messages, one per line, each written
// as it happens. `since`/`until` replay the kept past; an `until` in the past ends the stream
// after the replay, a future one when it comes; `filters` as moby's.

import { invalid } from '../../errors.js';
import { checkEventFilters, eventJSON, parseEventTime, type Engine, type EventMessage } from '../../engine/index.js';
import { COMMON_HEADERS } from './http.js';
import type { Router } from './router.js';
import { parseFilters } from './filters.js';

export function eventRoutes(router: Router, engine: Engine): void {
  router.on('GET', '/events', (ctx) => {
    const q = ctx.query;
    const time = (name: string) => {
      const v = q.get(name);
      return v ? parseEventTime(v) : undefined;
    };
    const since = time('since'),
      until = time('until');
    if (since !== undefined && until !== undefined && until < since) {
      throw invalid(`\`since\` time (${q.get('since')}) cannot be after \`until\` time (${q.get('until')})`);
    }
    const filters = parseFilters(q);
    checkEventFilters(filters);
    const res = ctx.res!;
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json' });
    res.flushHeaders();
    const write = (e: EventMessage) => {
      res.write(`${eventJSON(e)}\n`);
    };
    const { past, unsubscribe } = engine.events.subscribe({ since, until, filters }, write);
    past.forEach(write);
    const nowNano = BigInt(Date.now()) * 1_000_000n;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      unsubscribe();
      clearTimeout(timer);
      res.end();
    };
    res.on('close', end);
    if (until !== undefined) {
      if (until <= nowNano) end();
      // (A wait beyond setTimeout's range is as good as none.)
      else if (until - nowNano < 2_000_000_000_000_000n) timer = setTimeout(end, Number((until - nowNano) / 1_000_000n));
    }
  });
}
