// The upload pool's width: it widens while throughput grows, up to the maximum, and narrows
// for good when the server pushes back. Driven by a simulated server and a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adaptiveWidth, pool, type WidthControl } from '../../src/stores/store.ts';

/**
 * A simulated upload of `tasks` equal files: each takes `latencyMs`, and the server serves at
 * most `capacity` at once (more queue, so each takes longer). Returns the widths the pool ran at.
 */
function simulate(control: WidthControl, clock: { t: number }, tasks: number, latencyMs: number, capacity: number): number[] {
  const ends: number[] = [];
  const widths: number[] = [];
  let started = 0;
  while (started < tasks || ends.length > 0) {
    while (started < tasks && ends.length < control.width()) {
      const load = Math.max(1, (ends.length + 1) / capacity);
      ends.push(clock.t + latencyMs * load);
      ends.sort((a, b) => a - b);
      started++;
    }
    widths.push(control.width());
    clock.t = ends.shift()!;
    control.done(1);
  }
  return widths;
}

test('the width doubles while throughput grows, and goes back to the last width that paid', () => {
  const clock = { t: 0 };
  const control = adaptiveWidth({ max: 64, start: 4, clock: { now: () => clock.t } });
  assert.equal(control.width(), 4, 'starts modest');
  assert.equal(adaptiveWidth({ max: 64, clock: { now: () => clock.t } }).width(), 8, 'by default where earlier versions stayed');
  const widths = simulate(control, clock, 2000, 40, 12);
  assert.ok(widths.includes(8) && widths.includes(16), `widened: ${[...new Set(widths)].join(',')}`);
  // 16 serves 12 at once (a gain over 8), 32 no more: back to 16, and it stays.
  assert.equal(control.width(), 16);
  assert.ok(widths.every((w) => w <= 32));
});

test('the width never passes the maximum, and a server that does not gain keeps it narrow', () => {
  const clock = { t: 0 };
  const capped = adaptiveWidth({ max: 6, clock: { now: () => clock.t } });
  assert.ok(Math.max(...simulate(capped, clock, 500, 40, 100)) <= 6);
  assert.equal(capped.width(), 6);

  const single = adaptiveWidth({ max: 64, clock: { now: () => clock.t } });
  // One worker: sixteen at once are no faster than eight; one try, and back to eight.
  const widths = simulate(single, clock, 500, 10, 1);
  assert.equal(Math.max(...widths), 16);
  assert.equal(single.width(), 8);
});

test('throttling halves the width and it never grows again', () => {
  const clock = { t: 0 };
  const control = adaptiveWidth({ max: 32, start: 8, clock: { now: () => clock.t } });
  control.throttled();
  assert.equal(control.width(), 4);
  simulate(control, clock, 500, 40, 100);
  assert.equal(control.width(), 4, 'stays polite');
  control.throttled();
  control.throttled();
  control.throttled();
  assert.equal(control.width(), 1, 'never below one');
});

test('the pool runs no more tasks at once than the control allows, and widens as it says', async () => {
  let width = 2;
  const control: WidthControl = { width: () => width, done: () => undefined, throttled: () => undefined };
  let running = 0;
  const seen: number[] = [];
  await pool(
    Array.from({ length: 40 }, (_, i) => i),
    control,
    async (i) => {
      running++;
      seen.push(running);
      if (i === 10) width = 5;
      await new Promise((resolve) => setImmediate(resolve));
      running--;
    },
  );
  assert.equal(Math.max(...seen.slice(0, 10)), 2);
  assert.equal(Math.max(...seen), 5);
});

test('the pool counts each finished task in the units given, and a failure is not counted', async () => {
  const done: number[] = [];
  const control: WidthControl = { width: () => 1, done: (n) => done.push(n), throttled: () => undefined };
  await assert.rejects(
    pool(
      [1, 2, 3],
      control,
      async (i) => {
        if (i === 2) throw new Error('boom');
      },
      (i) => i * 100,
    ),
    /boom/,
  );
  assert.deepEqual(done, [100]);
});
