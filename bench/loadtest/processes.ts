/**
 * Memory and CPU of the server's processes (the launched one and its descendants), the CPU of the
 * services the scale-out shape uses (PostgreSQL, Redis, RabbitMQ: every process of theirs on the
 * machine) and how busy the machine was, read from /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS = 100; // USER_HZ on Linux

interface Sample {
  ppid: number;
  name: string;
  rssMb: number;
  cpuSeconds: number;
}

/** The services of the scale-out shape, by the command name their processes run under. */
const SERVICES: Record<string, string> = { postgres: 'PostgreSQL', 'redis-server': 'Redis', 'beam.smp': 'RabbitMQ' };

/** The parent, command name and CPU time of a process, from /proc/<pid>/stat alone (read for every process on the machine). */
function readStat(pid: number): { ppid: number; comm: string; cpuSeconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { ppid: Number(fields[1]), comm, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS };
  } catch {
    return undefined;
  }
}

/** The machine's CPU time so far by kind (seconds summed over its CPUs), from the first line of /proc/stat. */
function readMachine(): { total: number; idle: number; system: number; softirq: number; steal: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu  user nice system idle iowait irq softirq steal …
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (ticks.length < 8 || ticks.some((n) => !Number.isFinite(n))) return undefined;
    const at = (i: number) => ticks[i] ?? 0;
    const total = ticks.reduce((sum, n) => sum + n, 0);
    return {
      total: total / TICKS,
      idle: (at(3) + at(4)) / TICKS,
      system: at(2) / TICKS,
      softirq: at(6) / TICKS,
      steal: at(7) / TICKS,
    };
  } catch {
    return undefined;
  }
}

type MachineTicks = NonNullable<ReturnType<typeof readMachine>>;

/** How busy the machine was between two readings of /proc/stat (shares of all its CPUs' time). */
function machineFigures(start: MachineTicks | undefined, end: MachineTicks | undefined): MachineFigures | undefined {
  if (!start || !end || end.total <= start.total) return undefined;
  const share = (kind: 'idle' | 'system' | 'softirq' | 'steal') =>
    Math.round((1000 * (end[kind] - start[kind])) / (end.total - start.total)) / 10;
  return {
    cpus: cpus().length,
    busyPercent: Math.round(10 * (100 - share('idle'))) / 10,
    systemPercent: share('system'),
    softirqPercent: share('softirq'),
    stealPercent: share('steal'),
  };
}

export interface ServiceFigures {
  service: string;
  /** Its processes seen during the window (PostgreSQL: the server's and every connection's). */
  processes: number;
  cpuSeconds: number;
}

export interface MachineFigures {
  cpus: number;
  busyPercent: number;
  systemPercent: number;
  softirqPercent: number;
  /** Time a virtual machine's CPUs were ready but the hypervisor ran something else (counted as busy). */
  stealPercent: number;
}

/** Memory and command line too: read only for the server's own processes. */
function read(pid: number, stat: { ppid: number; cpuSeconds: number }): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { ...stat, name: cmd.slice(-2).join(' '), rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return undefined;
  }
}

export interface ProcessFigures {
  pid: number;
  role: string;
  peakRssMb: number;
  cpuSeconds: number;
}

/**
 * Samples every `intervalMs` the root process and all its descendants. `roleOf` names a process
 * from its environment (TICKETMAX_ROLES, PORT) where readable.
 */
export function watchProcesses(rootPid: number, rootRole: string, intervalMs = 1000) {
  const seen = new Map<number, ProcessFigures & { cpuAtStart: number | undefined }>();
  // The services' processes, counted from the window's start (from 0 for those started later, as
  // PostgreSQL's backends are); one that ends between two samples loses its last interval.
  const services = new Map<number, { service: string; cpuAtStart: number; cpuSeconds: number }>();
  let windowStarted = false;
  let machineAtStart = readMachine();
  function sample() {
    let pids: number[];
    try {
      pids = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number);
    } catch {
      return;
    }
    const all = new Map<number, { ppid: number; comm: string; cpuSeconds: number }>();
    for (const pid of pids) {
      const s = readStat(pid);
      if (!s) continue;
      all.set(pid, s);
      const service = SERVICES[s.comm];
      if (service === undefined) continue;
      const entry = services.get(pid) ?? { service, cpuAtStart: windowStarted ? 0 : s.cpuSeconds, cpuSeconds: 0 };
      entry.cpuSeconds = s.cpuSeconds - entry.cpuAtStart;
      services.set(pid, entry);
    }
    const family = new Set([rootPid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [pid, s] of all) {
        if (!family.has(pid) && family.has(s.ppid)) {
          family.add(pid);
          grew = true;
        }
      }
    }
    for (const pid of family) {
      const stat = all.get(pid);
      const s = stat && read(pid, stat);
      if (!s) continue;
      const entry = seen.get(pid) ?? {
        pid,
        role: pid === rootPid ? rootRole : roleOf(pid, s.name),
        peakRssMb: 0,
        cpuSeconds: 0,
        cpuAtStart: s.cpuSeconds,
      };
      entry.peakRssMb = Math.max(entry.peakRssMb, Math.round(s.rssMb));
      // Kept unrounded: resetCpu moves the start by it, and a rounded figure would shift the
      // window's start by up to 0.05 s each time (rounded only in what stop() returns).
      entry.cpuSeconds = s.cpuSeconds - (entry.cpuAtStart ?? 0);
      seen.set(pid, entry);
    }
  }
  const timer = setInterval(sample, intervalMs);
  sample();
  return {
    /** Starts counting CPU from now (the measured window), keeping the peaks. */
    resetCpu() {
      sample();
      for (const entry of seen.values()) entry.cpuAtStart = (entry.cpuAtStart ?? 0) + entry.cpuSeconds;
      for (const entry of services.values()) {
        entry.cpuAtStart += entry.cpuSeconds;
        entry.cpuSeconds = 0;
      }
      windowStarted = true;
      machineAtStart = readMachine();
    },
    /** Pids of the live processes whose role starts with `prefix` (e.g. 'api:'). */
    pidsOf(prefix: string): number[] {
      sample();
      return [...seen.values()].filter((p) => p.role.startsWith(prefix) && isAlive(p.pid)).map((p) => p.pid);
    },
    stop(): { processes: ProcessFigures[]; services: ServiceFigures[]; machine: MachineFigures | undefined } {
      sample();
      clearInterval(timer);
      const byService = new Map<string, ServiceFigures>();
      for (const entry of services.values()) {
        const figures = byService.get(entry.service) ?? { service: entry.service, processes: 0, cpuSeconds: 0 };
        figures.processes += 1;
        figures.cpuSeconds += entry.cpuSeconds;
        byService.set(entry.service, figures);
      }
      const machine = machineFigures(machineAtStart, readMachine());
      return {
        processes: [...seen.values()]
          .map(({ cpuAtStart: _c, ...rest }) => ({ ...rest, cpuSeconds: Math.round(rest.cpuSeconds * 10) / 10 }))
          .filter((p) => p.peakRssMb > 0),
        services: [...byService.values()]
          .map((f) => ({ ...f, cpuSeconds: Math.round(f.cpuSeconds * 10) / 10 }))
          .sort((a, b) => b.cpuSeconds - a.cpuSeconds),
        machine,
      };
    },
  };
}

function roleOf(pid: number, name: string): string {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const roles = env.find((v) => v.startsWith('TICKETMAX_ROLES='))?.slice(16);
    // start:scale's waiting-room tier (--queue-api) is named apart: --kill-api-at kills a main one.
    const tier = env.find((v) => v.startsWith('TICKETMAX_TIER='))?.slice(15);
    if (roles) return roles === 'api' ? `${tier ?? 'api'}:${pid}` : roles;
  } catch {
    // not ours to read
  }
  return name.includes('--service') ? 'esbuild service (tsx)' : name;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
