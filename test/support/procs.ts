/**
 * Internal: a registry of child processes the harness started, so that they are
 * killed when the test process exits (including a crashed test file).
 *
 * Only the processes registered here are ever signalled (by pid or process
 * group id), never anything found by name.
 */

import fs from 'node:fs';

interface Tracked {
  pid: number;
  /** true: `pid` leads its own process group (spawned detached); kill the whole group. */
  group: boolean;
  /** synchronous best-effort cleanup run after the kill (e.g. rm the temp dir). */
  onExitSync?: () => void;
}

const tracked = new Map<number, Tracked>();
/** Exit-time cleanups not tied to one process (e.g. a server's temp dir that outlives restarts). */
const cleanups = new Set<() => void>();
let installed = false;

function killSync(t: Tracked, signal: NodeJS.Signals): void {
  try {
    process.kill(t.group ? -t.pid : t.pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function killAllSync(): void {
  for (const t of tracked.values()) {
    killSync(t, 'SIGKILL');
    try {
      t.onExitSync?.();
    } catch {
      // best effort
    }
  }
  tracked.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  cleanups.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      killAllSync();
      process.removeListener(sig, handler);
      // Re-raise only if nobody else handles this signal, so default behaviour is kept.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

export function trackProcess(pid: number, group: boolean, onExitSync?: () => void): void {
  install();
  tracked.set(pid, onExitSync ? { pid, group, onExitSync } : { pid, group });
}

export function untrackProcess(pid: number): void {
  tracked.delete(pid);
}

/**
 * Run `fn` (synchronous, best effort) when the test process exits, after the tracked processes
 * were killed. Returns a function that unregisters it.
 */
export function trackCleanup(fn: () => void): () => void {
  install();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

/**
 * Is any (non-zombie) process left in the group led by `pgid`? On Linux this scans
 * /proc so that already-dead children waiting to be reaped by init don't count.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return true; // no /proc: trust kill(0)
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ..." — comm may contain spaces/parens, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left.
  }
}

/** Bounded text buffer that keeps the last `limit` characters. */
export class TailBuffer {
  private chunks: string[] = [];
  private size = 0;
  private readonly limit: number;
  private dropped = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(s: string): void {
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      const first = this.chunks.shift() as string;
      this.size -= first.length;
      this.dropped = true;
    }
    if (this.size > this.limit && this.chunks.length === 1) {
      const only = this.chunks[0] as string;
      this.chunks[0] = only.slice(only.length - this.limit);
      this.size = this.limit;
      this.dropped = true;
    }
  }

  text(): string {
    return (this.dropped ? '[...earlier output dropped...]\n' : '') + this.chunks.join('');
  }

  tail(chars: number): string {
    const t = this.chunks.join('');
    return t.length > chars ? '...' + t.slice(t.length - chars) : t;
  }
}

/** Environment for child processes: parent env minus any MLFLOW_* variable. */
export function cleanEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.toUpperCase().startsWith('MLFLOW_')) continue;
    env[k] = v;
  }
  return { ...env, ...(extra ?? {}) };
}
