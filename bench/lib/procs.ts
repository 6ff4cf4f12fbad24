/**
 * Process facts from /proc (Linux only): CPU time, resident memory, idleness, and a
 * sampler that tells how much CPU everything else on the machine used during the run.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime of every thread, in ticks. */
  ticks: number;
  startTime: number;
}

function readProcStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
  return {
    pid: Number(pid),
    comm: text.slice(open + 1, close),
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    startTime: Number(fields[19]),
  };
}

/** CPU seconds used so far by a process (all its threads). */
export function cpuSeconds(pid: number): number {
  return (readProcStat(pid)?.ticks ?? Number.NaN) / TICKS_PER_SECOND;
}

export interface MemoryStatus {
  rssBytes: number;
  /** Peak resident set since the process started. */
  hwmBytes: number;
}

export function memoryStatus(pid: number): MemoryStatus {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rssBytes: field("VmRSS"), hwmBytes: field("VmHWM") };
}

/**
 * Resolves once `pid` has used no CPU for `quietMs` (its threads are done: for example the
 * inference still running after a cancelled stream). CPU time has 10 ms resolution.
 */
export async function waitIdle(pid: number, { quietMs = 150, timeoutMs = 15_000 } = {}): Promise<number> {
  const started = performance.now();
  let last = readProcStat(pid)?.ticks;
  let quietSince = performance.now();
  while (performance.now() - started < timeoutMs) {
    await sleep(20);
    const now = readProcStat(pid)?.ticks;
    if (now === undefined) return performance.now() - started;
    if (now !== last) {
      last = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= quietMs) {
      return performance.now() - started;
    }
  }
  throw new Error(`process ${pid} stayed busy for ${timeoutMs} ms`);
}

interface CpuLine {
  busy: number;
  steal: number;
  total: number;
}

function readCpuLine(): CpuLine {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq!;
  return { busy, steal: steal!, total: busy + idle! + iowait! + steal! };
}

export interface LoadSample {
  /** Seconds since the sampler started. */
  t: number;
  phase: string;
  /** Cores busy machine-wide, ours included. */
  busyCores: number;
  /** Cores used by this process and its descendants. */
  oursCores: number;
  /** Cores used by everything else: busyCores - oursCores. */
  foreignCores: number;
  /** Share of the interval the hypervisor gave the CPUs to someone else. */
  stealFraction: number;
}

export interface LoadReport {
  intervalMs: number;
  samples: LoadSample[];
  /** Foreign CPU seconds by command name, from per-process deltas (short-lived processes partly missed). */
  foreignByCommand: Record<string, number>;
  loadavgStart: string;
  loadavgEnd?: string;
}

/**
 * Samples the machine every `intervalMs`: how many cores our process tree used and how many
 * everything else did, tagged with the scenario running at the time.
 */
export class LoadSampler {
  phase = "setup";
  private readonly report: LoadReport;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = performance.now();
  private lastCpu = readCpuLine();
  private lastAt = performance.now();
  private lastTicks = new Map<string, { ticks: number; comm: string }>();

  constructor(private readonly intervalMs = 1000) {
    this.report = { intervalMs, samples: [], foreignByCommand: {}, loadavgStart: readFileSync("/proc/loadavg", "utf8").trim() };
    this.lastTicks = this.snapshot().ticks;
  }

  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): LoadReport {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    this.report.loadavgEnd = readFileSync("/proc/loadavg", "utf8").trim();
    return this.report;
  }

  private snapshot(): { ticks: Map<string, { ticks: number; comm: string }>; ours: Set<string> } {
    const stats: ProcStat[] = [];
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const stat = readProcStat(name);
      if (stat) stats.push(stat);
    }
    const byPid = new Map(stats.map((s) => [s.pid, s]));
    const isOurs = (stat: ProcStat): boolean => {
      for (let current: ProcStat | undefined = stat, hops = 0; current && hops < 64; current = byPid.get(current.ppid), hops++) {
        if (current.pid === process.pid) return true;
      }
      return false;
    };
    const ticks = new Map<string, { ticks: number; comm: string }>();
    const ours = new Set<string>();
    for (const stat of stats) {
      const key = `${stat.pid}:${stat.startTime}`;
      ticks.set(key, { ticks: stat.ticks, comm: stat.comm });
      if (isOurs(stat)) ours.add(key);
    }
    return { ticks, ours };
  }

  private sample(): void {
    const now = performance.now();
    const seconds = (now - this.lastAt) / 1000;
    if (seconds <= 0.05) return;
    const cpu = readCpuLine();
    const { ticks, ours } = this.snapshot();
    let oursTicks = 0;
    for (const [key, current] of ticks) {
      const before = this.lastTicks.get(key)?.ticks ?? 0;
      const delta = Math.max(0, current.ticks - before);
      if (ours.has(key)) oursTicks += delta;
      else if (delta > 0)
        this.report.foreignByCommand[current.comm] = (this.report.foreignByCommand[current.comm] ?? 0) + delta / TICKS_PER_SECOND;
    }
    const busyCores = (cpu.busy - this.lastCpu.busy) / TICKS_PER_SECOND / seconds;
    const oursCores = oursTicks / TICKS_PER_SECOND / seconds;
    const totalDelta = cpu.total - this.lastCpu.total;
    this.report.samples.push({
      t: (now - this.started) / 1000,
      phase: this.phase,
      busyCores,
      oursCores,
      foreignCores: Math.max(0, busyCores - oursCores),
      stealFraction: totalDelta > 0 ? (cpu.steal - this.lastCpu.steal) / totalDelta : 0,
    });
    this.lastCpu = cpu;
    this.lastAt = now;
    this.lastTicks = ticks;
  }
}
