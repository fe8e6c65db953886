import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ActionError } from '../../src/errors.ts';
import { checkMlmodel, MLMODEL_LIMIT_BYTES, scanModelDir } from '../../src/model-dir.ts';
import { nameProblem } from '../../src/names.ts';

const MLMODEL = 'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n';

function modelDir(files: Record<string, string> = { MLmodel: MLMODEL }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'model-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

test('lists every regular file with relative paths, sorted, and the flavors', async () => {
  const dir = modelDir({ MLmodel: MLMODEL, 'b.txt': 'bb', 'a/z.bin': 'z' });
  const scanned = await scanModelDir(dir);
  assert.deepEqual(
    scanned.files.map((f) => [f.relPath, f.size]),
    [
      ['MLmodel', MLMODEL.length],
      ['a/z.bin', 1],
      ['b.txt', 2],
    ],
  );
  assert.equal(scanned.totalBytes, MLMODEL.length + 3);
  assert.deepEqual(scanned.flavors, ['python_function']);
});

test('symlinks inside the directory are followed; those leading outside are refused', async () => {
  const dir = modelDir({ MLmodel: MLMODEL, 'real.bin': 'data' });
  symlinkSync(path.join(dir, 'real.bin'), path.join(dir, 'link.bin'));
  const scanned = await scanModelDir(dir);
  assert.deepEqual(
    scanned.files.map((f) => f.relPath),
    ['MLmodel', 'link.bin', 'real.bin'],
  );
  const outside = modelDir({ 'secret.txt': 'x' });
  symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'leak.txt'));
  await assert.rejects(scanModelDir(dir), /leak\.txt: a symlink that points outside the model directory/);
});

test('a linked directory is walked under its own name, whichever comes first; a link loop is refused', async () => {
  const dir = modelDir({ MLmodel: MLMODEL, 'data/w.bin': 'w' });
  symlinkSync(path.join(dir, 'data'), path.join(dir, 'a_link'));
  symlinkSync(path.join(dir, 'data'), path.join(dir, 'z_link'));
  const scanned = await scanModelDir(dir);
  assert.deepEqual(
    scanned.files.map((f) => f.relPath),
    ['MLmodel', 'a_link/w.bin', 'data/w.bin', 'z_link/w.bin'],
  );
  symlinkSync(dir, path.join(dir, 'data', 'up'));
  await assert.rejects(scanModelDir(dir), /data\/up: a symlink to a directory that contains it \(a loop\)/);
});

test("names MLflow's client could not download, and special files, are refused up front, all listed at once", async () => {
  const dir = modelDir({
    MLmodel: MLMODEL,
    '100%41.txt': '',
    'a#b': '',
    'q?x': '',
    ' ': '',
    ' lead': '',
    'back\\slash': '',
    'new\nline': '',
    ' dir/inner.txt': '',
    // These round-trip, so they are kept.
    '100%.txt': '',
    'trailing ': '',
    'in side.txt': '',
    '...': '',
  });
  execFileSync('mkfifo', [path.join(dir, 'pipe')]);
  await assert.rejects(scanModelDir(dir), (e: Error) => {
    assert.match(e.message, /9 files that cannot be uploaded/);
    assert.match(e.message, /"100%41\.txt": the name has a percent-escape/);
    assert.match(e.message, /"a#b": the name has "#"/);
    assert.match(e.message, /"q\?x": the name has "\?"/);
    assert.match(e.message, /" ": the name has a leading space/);
    assert.match(e.message, /" lead": the name has a leading space/);
    assert.match(e.message, /" dir": the name has a leading space/);
    assert.match(e.message, /"back\\\\slash": the name has "\\"/);
    assert.match(e.message, /"new\\nline": the name has a control character/);
    assert.match(e.message, /pipe: a FIFO, not a regular file/);
    assert.doesNotMatch(e.message, /100%\.txt|trailing|in side|\.\.\./);
    return true;
  });
});

test('nameProblem: every reason a name has, or none', () => {
  assert.equal(nameProblem('weights-v1.2 (final) [a] & b=c;d!.bin'), undefined);
  assert.equal(nameProblem('données é.bin'), undefined, 'non-ASCII names are fetched back after the upload instead');
  assert.match(nameProblem(' #x?')!, /"\?".*"#".*leading space/);
});

test('missing directory, a file, and a directory without MLmodel each get their own message', async () => {
  await assert.rejects(scanModelDir('/nonexistent/model'), /does not exist/);
  const dir = modelDir();
  await assert.rejects(scanModelDir(path.join(dir, 'MLmodel')), /is a file, not a directory/);
  await assert.rejects(scanModelDir(modelDir({ 'model.pkl': 'x' })), /no MLmodel file at the root/);
});

test('MLmodel must be a YAML mapping with a non-empty flavors mapping', () => {
  assert.deepEqual(checkMlmodel(MLMODEL), ['python_function']);
  assert.throws(() => checkMlmodel('flavors: [unclosed'), /MLmodel is not valid YAML/);
  assert.throws(() => checkMlmodel('- a\n- b\n'), /not a YAML mapping/);
  assert.throws(() => checkMlmodel('artifact_path: model\n'), /no flavors/);
  assert.throws(() => checkMlmodel('flavors: {}\n'), /no flavors/);
});

test('an MLmodel over 1 MiB is refused, naming the file and the limit, without being read whole', async () => {
  // Valid YAML with flavors, padded by a comment: without the limit it would pass.
  const dir = modelDir({ MLmodel: `${MLMODEL}# ${'x'.repeat(MLMODEL_LIMIT_BYTES)}\n` });
  await assert.rejects(scanModelDir(dir), (e: ActionError) => {
    assert.equal(e.message, `MLmodel in "${dir}" is larger than 1 MiB (the limit), so it is not an MLmodel file written by MLflow`);
    assert.equal(e.step, 'Validate model directory');
    assert.match(e.hint, /a few KiB of YAML/);
    return true;
  });
  // At the limit it is still read.
  const atLimit = modelDir({ MLmodel: `${MLMODEL}#${'x'.repeat(MLMODEL_LIMIT_BYTES - MLMODEL.length - 2)}\n` });
  assert.deepEqual((await scanModelDir(atLimit)).flavors, ['python_function']);
});

test('the root of the file system, also through a link, is refused cleanly; an unreadable directory is listed, not a crash', async () => {
  await assert.rejects(
    scanModelDir('/'),
    (e: ActionError) => /model-path "\/" is the root of the file system/.test(e.message) && /model-path: \.\/model/.test(e.hint),
  );
  const dir = modelDir();
  symlinkSync('/', path.join(dir, 'root-link'));
  await assert.rejects(scanModelDir(path.join(dir, 'root-link')), /is the root of the file system \(it resolves to \/\)/);
  const locked = modelDir({ MLmodel: MLMODEL, 'secret/x.bin': 'x' });
  chmodSync(path.join(locked, 'secret'), 0o000);
  try {
    // Root reads anything: then there is nothing to refuse.
    if (process.getuid?.() !== 0) await assert.rejects(scanModelDir(locked), /"secret": a directory that cannot be read \(EACCES\)/);
  } finally {
    chmodSync(path.join(locked, 'secret'), 0o755);
  }
});
