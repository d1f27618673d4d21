import { test } from 'node:test';
import assert from 'node:assert/strict';
import { row } from './stats.js';

const base = {
  name: '/c',
  id: 'a'.repeat(64),
  read: '2024-01-01T00:00:00Z',
  cpu_stats: { cpu_usage: { total_usage: 0 } },
  precpu_stats: { cpu_usage: { total_usage: 0 } },
  memory_stats: {},
  blkio_stats: { io_service_bytes_recursive: null },
  pids_stats: {},
};

test("NET I/O sums the interfaces the API reports, as docker's decimal units", () => {
  const r = row({ ...base, networks: { eth0: { rx_bytes: 1500, tx_bytes: 700 }, eth1: { rx_bytes: 1000, tx_bytes: 300 } } }, 'c', false);
  assert.equal(r.NetIO, '2.5kB / 1kB');
  assert.equal(row(base, 'c', false).NetIO, '0B / 0B');
});
