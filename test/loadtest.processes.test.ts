// The load test's view of the machine: CPU of the server's own processes, of the services'
// processes (a real PostgreSQL backend made to work), and how busy the machine was, from /proc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { watchProcesses } from '../bench/loadtest/processes.ts';
import { dbShapes, freshDb } from './helpers.ts';

const shapes = await dbShapes();
// Spends `ms` of CPU (not of wall time, which a busy machine stretches).
const BURN = `const burn = (ms) => { const s = process.cpuUsage(); for (;;) { const u = process.cpuUsage(s); if ((u.user + u.system) / 1000 >= ms) return; } };`;

describe('load test: processes and the machine', { skip: !existsSync('/proc/stat') && 'no /proc here' }, () => {
  it("counts a server process's CPU from the window's start only, and the machine's busy share", async () => {
    // 400 ms of CPU before the window, 400 ms inside it; each step told over stdout, the next asked over stdin.
    const child = spawn(process.execPath, [
      '-e',
      `${BURN} burn(400); process.stdout.write('1'); process.stdin.once('data', () => { burn(400); process.stdout.write('2'); process.stdin.once('data', () => process.exit(0)); });`,
    ]);
    const said = (what: string) =>
      new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes(what) && resolve()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const watch = watchProcesses(child.pid!, 'burner', 50);
    await said('1');
    watch.resetCpu();
    child.stdin.write('go\n');
    await said('2');
    const { processes, machine } = watch.stop();
    child.stdin.write('end\n');
    await exited;
    const burner = processes.find((p) => p.role === 'burner');
    assert.ok(burner, 'the watched process is listed');
    assert.ok(burner.cpuSeconds >= 0.35 && burner.cpuSeconds <= 0.6, `CPU in the window: ${burner.cpuSeconds} s`);
    assert.ok(burner.peakRssMb > 10);
    assert.ok(machine, 'the machine figures are read');
    assert.ok(machine.busyPercent > 0 && machine.busyPercent <= 100, `busy ${machine.busyPercent} %`);
    assert.ok(machine.systemPercent <= machine.busyPercent);
    assert.ok(machine.stealPercent >= 0 && machine.stealPercent <= machine.busyPercent, `steal ${machine.stealPercent} %`);
  });

  if (shapes.includes('postgres')) {
    it("counts PostgreSQL's CPU over all its processes, a connection's backend included", async () => {
      const { db, drop } = await freshDb('postgres');
      try {
        await db.query('SELECT 1'); // the pool's backend exists before the window
        const watch = watchProcesses(process.pid, 'test', 50);
        watch.resetCpu();
        await db.query('SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 3');
        const { services } = watch.stop();
        const pg = services.find((s) => s.service === 'PostgreSQL');
        assert.ok(pg, `services: ${JSON.stringify(services)}`);
        assert.ok(pg.cpuSeconds >= 0.1, `PostgreSQL CPU in the window: ${pg.cpuSeconds} s`);
        assert.ok(pg.processes >= 2, 'the server and at least the backend');
      } finally {
        await drop();
      }
    });
  }
});
