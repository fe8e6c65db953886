/**
 * A throwaway self-signed certificate for HTTPS tests (front-proxy `tls` option).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const OPENSSL = '/usr/bin/openssl';

export interface SelfSignedCert {
  /** PEM private key (RSA 2048, unencrypted) */
  key: string;
  /** PEM certificate; also usable as the CA to trust (`connect: { ca: cert }`) */
  cert: string;
  certPath: string;
  keyPath: string;
}

const madeDirs: string[] = [];
let cleanupInstalled = false;

/**
 * Make a self-signed cert for CN=127.0.0.1, subjectAltName IP:127.0.0.1 + DNS:localhost,
 * valid for 2 days, with the openssl CLI. Written to `dir` (created if missing) or to a new temp
 * dir that is removed when the process exits.
 */
export function selfSignedCert(dir?: string): SelfSignedCert {
  let outDir: string;
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    outDir = dir;
  } else {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-cert-'));
    madeDirs.push(outDir);
    if (!cleanupInstalled) {
      cleanupInstalled = true;
      process.on('exit', () => {
        for (const d of madeDirs) fs.rmSync(d, { recursive: true, force: true });
      });
    }
  }
  const keyPath = path.join(outDir, 'key.pem');
  const certPath = path.join(outDir, 'cert.pem');
  // -nodes: unencrypted key (`-noenc` is the OpenSSL 3 spelling; -nodes works on 1.1.1 and 3.x).
  // prettier-ignore
  execFileSync(OPENSSL, [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
    '-keyout', keyPath, '-out', certPath,
    '-days', '2',
    '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  return { key: fs.readFileSync(keyPath, 'utf8'), cert: fs.readFileSync(certPath, 'utf8'), keyPath, certPath };
}
