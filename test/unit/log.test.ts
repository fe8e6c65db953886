// The redactor (errors.ts redact) and the one module everything printed goes through (log.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { redact } from '../../src/errors.ts';
import * as log from '../../src/log.ts';

// Mixed case and characters that percent-encoding and form-encoding change.
const SECRET = 'Fake-Secret+Value=Mixed_Case9';

/** Runs fn with process.stdout captured (core writes log lines and workflow commands there). */
function stdoutOf(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    fn();
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

test('redact removes a secret in every spelling a server or a URL parser gives back', () => {
  const spellings = {
    literal: SECRET,
    'lower case (new URL() lower-cases a host)': SECRET.toLowerCase(),
    'upper case': SECRET.toUpperCase(),
    encodeURIComponent: encodeURIComponent(SECRET),
    'percent-encoded with lower-case hex': encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    'form-encoded (URLSearchParams)': new URLSearchParams({ k: SECRET }).toString().slice(2),
    'every character percent-encoded': Array.from(Buffer.from(SECRET), (b) => `%${b.toString(16)}`).join(''),
    'a URL host': new URL(`https://${SECRET}/`).host,
    'HTML character references (the summary escapes _ + =)': SECRET.replace(/[_+=]/g, (c) => `&#${c.charCodeAt(0)};`),
    'hex character references': SECRET.replace(/[_+=]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`),
  };
  for (const [name, spelling] of Object.entries(spellings)) {
    const out = redact(`before ${spelling} after`, [SECRET]);
    assert.equal(out, 'before *** after', name);
  }
});

test('redact: a space comes back as + in form encoding; longer secrets win over the ones they contain; short values are left alone', () => {
  assert.equal(redact('q=pass+word+here&x=1', ['pass word here']), 'q=***&x=1');
  assert.equal(redact('pass%20word%20here', ['pass word here']), '***');
  assert.equal(redact('abcdefgh-rest', ['abcd', 'abcdefgh-rest']), '***');
  assert.equal(redact('the abc of it', ['abc']), 'the abc of it');
  assert.equal(redact('a path/with\\slashes(and)[brackets]{x}', ['with\\slashes(and)[brackets]{x}']), 'a path/***');
  assert.equal(redact('ünïcödé-secret', ['ÜNÏCÖDÉ-SECRET']), '***');
  assert.equal(redact(encodeURIComponent('ünïcödé-secret'), ['ünïcödé-secret']), '***');
});

test('urlSecrets: the userinfo, query and fragment of a URL input, as typed and decoded; nothing from a clean URL', () => {
  assert.deepEqual(log.urlSecrets('https://registry.example.com/api/mlflow'), []);
  assert.deepEqual(log.urlSecrets(''), []);
  const q = log.urlSecrets('https://host/api/mlflow?token=abcd%2B1234&x=1');
  for (const part of ['token=abcd%2B1234&x=1', 'abcd%2B1234', 'abcd+1234']) assert.ok(q.includes(part), part);
  const u = log.urlSecrets('https://someone:hunter22@host/api');
  for (const part of ['someone:hunter22', 'someone', 'hunter22']) assert.ok(u.includes(part), part);
  assert.ok(log.urlSecrets('https://host/api#frag-token').includes('frag-token'));
  // A value the URL parser refuses still has its parts found.
  assert.ok(log.urlSecrets('https://us er:pa ss word@ho st/x').includes('pa ss word'));
});

test('neutralizeCommands: no line starts a workflow command, even after blanks or a carriage return; no legacy ##[ anywhere', () => {
  const hostile = [
    'scopes: read\n::error title=INJECTED::boom',
    '::set-output name=model-uri::models:/evil/1',
    '  \t::warning::indented',
    '\u00a0\u3000::notice::unicode blanks (the runner trims them too)',
    '\u0085::debug::next line, which .NET counts as a blank',
    'a\r::add-mask::carriage return',
    'a\r\n::stop-commands::tok',
    'text ##[set-output name=x;]legacy command mid-line',
  ].join('\n');
  const out = log.neutralizeCommands(hostile);
  for (const line of out.split(/\r\n|\r|\n/)) {
    assert.doesNotMatch(line, /^[\s\u0085]*::/, line);
    assert.ok(!line.includes('##['), line);
  }
  // Visible, and nothing else changes.
  assert.equal(log.neutralizeCommands('ok\n::error::x'), 'ok\n\\::error::x');
  assert.equal(log.neutralizeCommands('plain :: text ## [x]'), 'plain :: text ## [x]');
});

test('escapeBidi: every bidi control becomes its visible name', () => {
  const controls = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'];
  const out = log.escapeBidi(`evil${controls.join('')}txt.exe`);
  assert.doesNotMatch(out, /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
  assert.match(out, /^evil<U\+202A><U\+202B>.*<U\+061C>txt\.exe$/);
  assert.equal(log.escapeBidi('a\u202eb', true), 'a&#60;U+202E&#62;b');
});

test('every log function redacts the registered secrets, shows bidi controls and neutralizes commands; outputs are redacted only', () => {
  const secret = `${SECRET}-log-functions`;
  const masked = stdoutOf(() => log.addSecret(secret));
  assert.equal(masked.trim(), `::add-mask::${secret}`, 'the runner is told to mask it');

  const hostile = `key ${secret.toLowerCase()} / ${encodeURIComponent(secret)}\n::error title=INJECTED::x \u202eexe.txt`;
  const out = stdoutOf(() => {
    log.info(hostile);
    log.debug(hostile);
    log.warning(hostile, { title: `t ${secret}` });
    log.notice(hostile, { title: 'n' });
    log.error(hostile);
    log.setFailed(hostile);
  });
  process.exitCode = 0;
  assert.ok(!out.toLowerCase().includes(secret.toLowerCase()), out);
  assert.ok(!out.toLowerCase().includes(encodeURIComponent(secret).toLowerCase()), out);
  assert.doesNotMatch(out, /\u202e/);
  for (const line of out.split('\n')) assert.doesNotMatch(line, /^\s*::error title=INJECTED/, line);
  assert.match(out, /^key \*\*\* \/ \*\*\*$/m);
  assert.match(out, /^\\::error title=INJECTED::x <U\+202E>exe\.txt$/m);
  assert.match(out, /^::warning title=t \*\*\*::key \*\*\* \/ \*\*\*%0A\\::error/m);

  const dir = mkdtempSync(path.join(tmpdir(), 'log-test-'));
  const file = path.join(dir, 'output');
  writeFileSync(file, '');
  const saved = process.env.GITHUB_OUTPUT;
  process.env.GITHUB_OUTPUT = file;
  try {
    log.setOutput('source', `mlflow-artifacts:/${secret}/1`);
    log.setOutput('plain', '::not-a-command::');
  } finally {
    if (saved === undefined) delete process.env.GITHUB_OUTPUT;
    else process.env.GITHUB_OUTPUT = saved;
  }
  const written = readFileSync(file, 'utf8');
  assert.ok(!written.includes(secret));
  assert.match(written, /mlflow-artifacts:\/\*\*\*\/1/);
  assert.match(written, /::not-a-command::/, 'outputs are data: only redacted');
});
