// node scripts/startup.ts: what the built action costs before it does any work. Runs
// `node dist/index.js` with only PATH and HOME set (every input missing, so it stops at a clean
// input error) interleaved with a bare `node -e 0`, and prints the median wall time and peak RSS
// of each, the difference, and the sizes of the bundles (dist/index.js, its lazy chunks, the
// post step's). Also the post step with no run left open (what nearly every post step does).
// Needs GNU time (/usr/bin/time) for the peak RSS; build first (npm run build).
//
// node scripts/startup.ts [dist-dir] measures another build (e.g. one extracted from an older commit).
// Environment: STARTUP_RUNS=N runs of each (default 25).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist'));
const TIME = '/usr/bin/time';
const RUNS = Number(process.env.STARTUP_RUNS ?? 25);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`STARTUP_RUNS must be a positive integer, got ${process.env.STARTUP_RUNS}`);
for (const f of ['index.js', 'post/index.js'])
  if (!fs.existsSync(path.join(DIST, f))) throw new Error(`dist/${f} is missing: run npm run build first`);
if (!fs.existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed for the peak RSS`);

interface Sample {
  ms: number;
  kb: number;
  /** user + system CPU time: less disturbed than the wall time when other work shares the machine. */
  cpuMs: number;
}

/** One run: wall time around the spawn, peak RSS from GNU time (written to its own file, apart from the child's stderr). */
function once(args: string[], expectFailure = false): Sample {
  const rssFile = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'startup-')), 'rss');
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const t0 = performance.now();
  const r = spawnSync(TIME, ['-f', '%M %U %S', '-o', rssFile, process.execPath, ...args], { cwd: ROOT, env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  const [kb, user, sys] = fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  fs.rmSync(path.dirname(rssFile), { recursive: true });
  // The action must stop at the inputs (exit 1, ::error:: naming one), not crash on a missing module.
  if (expectFailure && (r.status !== 1 || !/::error/.test(r.stdout) || !/input/i.test(r.stdout)))
    throw new Error(`dist/index.js did not stop at a clean input error (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  if (!expectFailure && r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return { ms, kb, cpuMs: (user + sys) * 1000 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const POST = path.join(DIST, 'post', 'index.js');
const bare: Sample[] = [];
const action: Sample[] = [];
const post: Sample[] = [];
// One warm-up of each (file cache), then interleaved so drift hits all alike.
once(['-e', '0']);
once([path.join(DIST, 'index.js')], true);
once([POST]);
for (let i = 0; i < RUNS; i++) {
  bare.push(once(['-e', '0']));
  action.push(once([path.join(DIST, 'index.js')], true));
  post.push(once([POST]));
}

const mb = (kb: number) => kb / 1000;
// CPU time is a mean: GNU time counts it in 10 ms ticks, which only a mean resolves.
const mean = (xs: number[]) => xs.reduce((t, x) => t + x, 0) / xs.length;
const show = (name: string, ms: number, cpuMs: number, kb: number, sign = '') =>
  console.log(
    `${name.padEnd(24)} ${`${sign}${ms.toFixed(0)}`.padStart(5)} ms  ${`${sign}${cpuMs.toFixed(0)}`.padStart(5)} ms  ${`${sign}${mb(kb).toFixed(1)}`.padStart(6)} MB`,
  );
const row = (name: string, s: Sample[]) => {
  const r = { ms: median(s.map((x) => x.ms)), cpuMs: mean(s.map((x) => x.cpuMs)), kb: median(s.map((x) => x.kb)) };
  show(name, r.ms, r.cpuMs, r.kb);
  return r;
};
console.log(`start-up to a clean input error, ${RUNS} runs each: median wall time, mean CPU time (user + system), median peak RSS`);
const b = row('node -e 0', bare);
const over = (x: { ms: number; cpuMs: number; kb: number }) => show('  over bare node', x.ms - b.ms, x.cpuMs - b.cpuMs, x.kb - b.kb, '+');
over(row('node dist/index.js', action));
over(row('post step, no run open', post));

const size = (file: string) => fs.statSync(file).size;
const chunks = fs.readdirSync(DIST).filter((f) => /^\d+\.index\.js$/.test(f));
console.log('\nbundles');
console.log(`${'dist/index.js'.padEnd(22)} ${(size(path.join(DIST, 'index.js')) / 1e6).toFixed(2)} MB`);
for (const c of chunks) console.log(`${`dist/${c}`.padEnd(22)} ${(size(path.join(DIST, c)) / 1e6).toFixed(2)} MB (lazy)`);
console.log(`${'dist/post/index.js'.padEnd(22)} ${(size(POST) / 1e6).toFixed(2)} MB`);
for (const c of fs.readdirSync(path.dirname(POST)).filter((f) => /^\d+\.index\.js$/.test(f)))
  console.log(`${`dist/post/${c}`.padEnd(22)} ${(size(path.join(DIST, 'post', c)) / 1e6).toFixed(2)} MB (lazy)`);
