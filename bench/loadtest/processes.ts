/** Memory and CPU of the server's processes (the launched one and its descendants), read from /proc. */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

interface Sample {
  ppid: number;
  name: string;
  rssMb: number;
  cpuSeconds: number;
}

/** The parent and CPU time of a process, from /proc/<pid>/stat alone (read for every process on the machine). */
function readStat(pid: number): { ppid: number; cpuSeconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS };
  } catch {
    return undefined;
  }
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
  function sample() {
    let pids: number[];
    try {
      pids = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .map(Number);
    } catch {
      return;
    }
    const all = new Map<number, { ppid: number; cpuSeconds: number }>();
    for (const pid of pids) {
      const s = readStat(pid);
      if (s) all.set(pid, s);
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
      entry.cpuSeconds = Math.round((s.cpuSeconds - (entry.cpuAtStart ?? 0)) * 10) / 10;
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
    },
    /** Pids of the live processes whose role starts with `prefix` (e.g. 'api:'). */
    pidsOf(prefix: string): number[] {
      sample();
      return [...seen.values()].filter((p) => p.role.startsWith(prefix) && isAlive(p.pid)).map((p) => p.pid);
    },
    stop(): ProcessFigures[] {
      sample();
      clearInterval(timer);
      return [...seen.values()].map(({ cpuAtStart: _c, ...rest }) => rest).filter((p) => p.peakRssMb > 0);
    },
  };
}

function roleOf(pid: number, name: string): string {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const roles = env.find((v) => v.startsWith('TICKETMAX_ROLES='))?.slice(16);
    if (roles) return roles === 'api' ? `api:${pid}` : roles;
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
