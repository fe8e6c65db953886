// The recursive artifact listing that checks an upload: a listing comes from the server, so
// loops, endless depth and endless entries are refused with a message instead of followed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, MockAgent } from 'undici';
import { ActionError } from '../../src/errors.ts';
import { HttpClient } from '../../src/http.ts';
import { ARTIFACT_LIST_LIMITS, MlflowClient, type ArtifactFile } from '../../src/mlflow.ts';
import { httpOptions } from '../support/http-options.ts';

const LIST = '/api/2.0/mlflow/artifacts/list';

/** A client whose server answers artifacts/list with `listing(path)`; counts the requests. */
function server(listing: (dir: string) => ArtifactFile[]) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  let requests = 0;
  agent
    .get('http://mlflow.test')
    .intercept({ path: (p) => p.startsWith(LIST), method: 'GET' })
    .reply((opts) => {
      requests++;
      const dir = new URL(opts.path, 'http://mlflow.test').searchParams.get('path') ?? '';
      return {
        statusCode: 200,
        data: JSON.stringify({ files: listing(dir) }),
        responseOptions: { headers: { 'content-type': 'application/json' } },
      };
    })
    .persist();
  const http = new HttpClient(httpOptions({ dispatcher: agent }));
  return { client: new MlflowClient(http, new URL('http://mlflow.test'), { kind: 'none', header: undefined }), requests: () => requests };
}

async function refused(p: Promise<unknown>): Promise<ActionError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ActionError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
}

test('a healthy tree is listed whole', async () => {
  const { client } = server((dir) =>
    dir === 'model'
      ? [
          { path: 'model/MLmodel', file_size: 10 },
          { path: 'model/sub', is_dir: true },
        ]
      : [{ path: 'model/sub/w.bin', file_size: 3 }],
  );
  const files = await client.listArtifactsRecursive('Verify upload', 'r', 'model');
  assert.deepEqual(
    files.map((f) => f.path),
    ['model/MLmodel', 'model/sub/w.bin'],
  );
});

test('a listing that names its own directory as a subdirectory is refused at once, not followed', async () => {
  const { client, requests } = server((dir) => [{ path: dir, is_dir: true }]);
  const err = await refused(client.listArtifactsRecursive('Verify upload', 'r', 'model'));
  assert.equal(requests(), 1);
  assert.equal(err.step, 'Verify upload');
  assert.equal(err.method, 'GET');
  assert.equal(err.path, LIST);
  assert.match(err.message, /^the artifact listing of "model" names "model" as an entry of "model", which is not below it \(a loop/);
  assert.match(err.hint, /broken artifact listing/);
});

test('entries outside the directory, or leading back up with "..", are refused', async () => {
  for (const entry of ['other/x', 'model/../model', 'model//x', 'modelx/y', '']) {
    const { client } = server(() => [{ path: entry, is_dir: true }]);
    const err = await refused(client.listArtifactsRecursive('Verify upload', 'r', 'model'));
    assert.match(err.message, /which is not below it/, entry);
  }
});

test('a directory named twice is refused', async () => {
  const { client } = server((dir) =>
    dir === 'model'
      ? [
          { path: 'model/a', is_dir: true },
          { path: 'model/a', is_dir: true },
        ]
      : [],
  );
  const err = await refused(client.listArtifactsRecursive('Verify upload', 'r', 'model'));
  assert.match(err.message, /names the directory "model\/a" twice \(a loop\)/);
});

test('a tree that goes deeper forever stops at the depth limit', async () => {
  const { client, requests } = server((dir) => [{ path: `${dir}/d`, is_dir: true }]);
  const err = await refused(client.listArtifactsRecursive('Verify upload', 'r', 'model'));
  assert.match(err.message, new RegExp(`goes more than ${ARTIFACT_LIST_LIMITS.depth} directories deep \\(the limit\\)`));
  assert.equal(requests(), ARTIFACT_LIST_LIMITS.depth + 1);
});

test('a tree with more entries than the limit is refused', async () => {
  const { client, requests } = server((dir) => Array.from({ length: 50 }, (_, i) => ({ path: `${dir}/${i}`, is_dir: i === 0 })));
  const err = await refused(client.listArtifactsRecursive('Verify upload', 'r', 'model', { depth: 1000, entries: 120 }));
  assert.match(err.message, /has more than 120 entries \(the limit\)/);
  assert.equal(requests(), 3);
  // The default limit holds too: 2,000 directories of 100 entries.
  const wide = server((dir) => Array.from({ length: 100 }, (_, i) => ({ path: `${dir}/${i}`, is_dir: true })));
  const err2 = await refused(wide.client.listArtifactsRecursive('Verify upload', 'r', 'model'));
  assert.match(err2.message, new RegExp(`has more than ${ARTIFACT_LIST_LIMITS.entries} entries`));
  // Directories are listed 8 at a time: at most the 7 others in flight run past the limit.
  assert.ok(wide.requests() <= ARTIFACT_LIST_LIMITS.entries / 100 + 1 + 7, `${wide.requests()} requests`);
});

test('directories of one level are listed side by side, at most 8 at once, and every file is found', async () => {
  // A real local server that holds each answer a moment, counting the requests open at once.
  let open = 0;
  let widest = 0;
  let requests = 0;
  const srv = http.createServer((req, res) => {
    requests++;
    widest = Math.max(widest, ++open);
    const dir = new URL(req.url ?? '', 'http://x').searchParams.get('path') ?? '';
    const files =
      dir === 'model'
        ? Array.from({ length: 20 }, (_, i) => ({ path: `model/d${i}`, is_dir: true }))
        : [{ path: `${dir}/f`, is_dir: false, file_size: 1 }];
    setTimeout(() => {
      open--;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ files }));
    }, 20);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const { port } = srv.address() as AddressInfo;
    const client = new MlflowClient(new HttpClient(httpOptions({ dispatcher: new Agent() })), new URL(`http://127.0.0.1:${port}`), {
      kind: 'none',
      header: undefined,
    });
    const files = await client.listArtifactsRecursive('Verify upload', 'r', 'model');
    assert.equal(files.length, 20);
    assert.equal(requests, 21);
    assert.equal(widest, 8);
  } finally {
    srv.close();
  }
});
