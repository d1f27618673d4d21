// `berth compose ls`: the projects berthd's containers carry labels of, with their containers'
// states counted (`running(2), exited(1)`) and their config files; running ones unless -a.

import { table } from '../../cli/output.js';
import type { ComposeCommand } from '../cli.js';
import type { Listed } from '../containers.js';
import { L } from '../labels.js';

export const ls: ComposeCommand = {
  spec: {
    path: 'ls',
    use: '[OPTIONS]',
    about: 'List running compose projects',
    args: { max: 0 },
    flags: {
      all: { short: 'a', type: 'bool', desc: 'Show all stopped Compose projects' },
      quiet: { short: 'q', type: 'bool', desc: 'Only display project names' },
      format: { type: 'string', desc: 'Format the output. Values: [table | json]', dflt: '"table"' },
    },
  },
  async run(ctx, { flags }) {
    const list = await ctx.client.json<Listed[]>('GET', '/containers/json', {
      query: { all: true, filters: JSON.stringify({ label: [L.project] }) },
    });
    const projects = new Map<string, { states: Map<string, number>; files: string }>();
    for (const c of list) {
      const name = c.Labels[L.project];
      const p = projects.get(name) ?? { states: new Map(), files: c.Labels[L.configFiles] ?? '' };
      p.states.set(c.State, (p.states.get(c.State) ?? 0) + 1);
      projects.set(name, p);
    }
    const rows = [...projects]
      .filter(([, p]) => flags.all || p.states.has('running'))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, p]) => ({
        Name: name,
        Status: [...p.states].map(([s, n]) => `${s}(${n})`).join(', '),
        ConfigFiles: p.files,
      }));
    if (flags.quiet) ctx.out.write(rows.map((r) => `${r.Name}\n`).join(''));
    else if (flags.format === 'json') ctx.out.write(`${JSON.stringify(rows)}\n`);
    else if (flags.format === undefined || flags.format === 'table') {
      ctx.out.write(table([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map((r) => [r.Name, r.Status, r.ConfigFiles])], 3));
    } else throw new Error(`unsupported format ${JSON.stringify(flags.format)}: table or json`);
    return 0;
  },
};
