export const id = 926;
export const ids = [926];
export const modules = {

/***/ 73948:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   $Z: () => (/* binding */ unreadableModelFile),
/* harmony export */   H6: () => (/* binding */ readStart),
/* harmony export */   my: () => (/* binding */ scanModelDir)
/* harmony export */ });
/* unused harmony exports MLMODEL_LIMIT_BYTES, checkMlmodel */
/* harmony import */ var node_fs__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(73024);
/* harmony import */ var node_fs_promises__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(51455);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(76760);
/* harmony import */ var yaml__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(38815);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(452);
/* harmony import */ var _names_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(43879);
// Scans and validates the model directory before anything touches the network,
// so a bad directory never leaves a half-registered model behind.






const STEP = 'Validate model directory';
function fail(message, hint) {
    throw new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ActionError */ .lZ(message, { step: STEP, hint });
}
async function scanModelDir(root) {
    const rootStat = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.stat)(root).catch(() => undefined);
    if (!rootStat)
        fail(`model-path "${root}" does not exist`, 'Set model-path to the directory that holds the model (with MLmodel at its root), relative to the repository root.');
    if (!rootStat.isDirectory())
        fail(`model-path "${root}" is a file, not a directory`, 'Point model-path at the directory that holds the MLmodel file, not at a single file.');
    const realRoot = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.realpath)(root);
    // Scanning a whole file system (model-path: / or a link to it) is never what was meant.
    if (realRoot === node_path__WEBPACK_IMPORTED_MODULE_2__.parse(realRoot).root)
        fail(`model-path "${root}" is the root of the file system${realRoot === root ? '' : ` (it resolves to ${realRoot})`}`, 'Set model-path to the directory that holds the model (with MLmodel at its root), relative to the repository root, e.g. model-path: ./model.');
    const files = [];
    const problems = [];
    // A linked directory is walked under the link's own path, like any other directory;
    // `ancestors` (real paths of the directories above) only guards against link loops.
    async function walk(dir, rel, ancestors) {
        let entries;
        try {
            entries = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.readdir)(dir, { withFileTypes: true });
        }
        catch (err) {
            // An unreadable directory is a problem with the model directory, not a crash.
            problems.push(`${JSON.stringify(rel || '.')}: a directory that cannot be read (${err.code ?? String(err)})`);
            return;
        }
        for (const entry of entries) {
            const relPath = rel ? `${rel}/${entry.name}` : entry.name;
            const abs = node_path__WEBPACK_IMPORTED_MODULE_2__.join(dir, entry.name);
            const bad = (0,_names_js__WEBPACK_IMPORTED_MODULE_5__/* .nameProblem */ .r)(entry.name);
            if (bad) {
                // Quoted with escapes: the name may hold spaces at its start or control characters.
                problems.push(`${JSON.stringify(relPath)}: the name has ${bad}`);
                continue;
            }
            let target = abs;
            let info = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.lstat)(abs);
            if (info.isSymbolicLink()) {
                const resolved = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.realpath)(abs).catch(() => undefined);
                if (!resolved) {
                    problems.push(`${relPath}: a broken symlink`);
                    continue;
                }
                if (resolved !== realRoot && !resolved.startsWith(realRoot + node_path__WEBPACK_IMPORTED_MODULE_2__.sep)) {
                    problems.push(`${relPath}: a symlink that points outside the model directory (to ${resolved}); copy the file in instead`);
                    continue;
                }
                target = resolved;
                info = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.stat)(resolved);
            }
            if (info.isDirectory()) {
                const real = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.realpath)(target);
                if (ancestors.has(real)) {
                    problems.push(`${relPath}: a symlink to a directory that contains it (a loop)`);
                    continue;
                }
                await walk(target, relPath, new Set([...ancestors, real]));
            }
            else if (info.isFile()) {
                files.push({ relPath, absPath: target, size: info.size });
            }
            else {
                const kind = (info.mode & node_fs__WEBPACK_IMPORTED_MODULE_0__.constants.S_IFMT) === node_fs__WEBPACK_IMPORTED_MODULE_0__.constants.S_IFIFO ? 'a FIFO' : info.isSocket() ? 'a socket' : 'a device file';
                problems.push(`${relPath}: ${kind}, not a regular file`);
            }
        }
    }
    await walk(realRoot, '', new Set([realRoot]));
    if (problems.length > 0) {
        fail(`the model directory has ${problems.length} file${problems.length === 1 ? '' : 's'} that cannot be uploaded:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 'Rename (for example with "_" in place of those characters), copy in or remove the files listed above, then re-run. Nothing was sent to the server.');
    }
    files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
    const mlmodel = files.find((f) => f.relPath === 'MLmodel');
    if (!mlmodel)
        fail(`no MLmodel file at the root of "${root}"`, 'model-path must be a directory saved by MLflow (for example with mlflow.sklearn.save_model), which writes MLmodel at its root. If the model sits in a subdirectory, point model-path there.');
    const text = await readMlmodel(mlmodel.absPath, root);
    const flavors = checkMlmodel(text);
    return { root: realRoot, files, totalBytes: files.reduce((n, f) => n + f.size, 0), flavors, mlmodel: text };
}
/** MLmodel files are a few KiB; a bigger one is not an MLmodel, and is not read whole. */
const MLMODEL_LIMIT_BYTES = 1024 * 1024;
/** Reads MLmodel, refusing one over the limit (checked on the bytes read, in case it grew since the scan). */
async function readMlmodel(file, root) {
    const buf = await readStart(file, MLMODEL_LIMIT_BYTES + 1);
    if (buf.length > MLMODEL_LIMIT_BYTES)
        fail(`MLmodel in "${root}" is larger than ${MLMODEL_LIMIT_BYTES / (1024 * 1024)} MiB (the limit), so it is not an MLmodel file written by MLflow`, 'MLflow writes MLmodel as a few KiB of YAML. Check that model-path points at the directory MLflow saved, and that MLmodel at its root is that file.');
    return buf.toString('utf8');
}
/** At most the first `bytes` bytes of a file: the small files the action reads whole are never read past a bound. */
async function readStart(file, bytes) {
    const handle = await (0,node_fs_promises__WEBPACK_IMPORTED_MODULE_1__.open)(file, 'r');
    try {
        const buf = Buffer.alloc(bytes);
        let size = 0;
        while (size < buf.length) {
            const { bytesRead } = await handle.read(buf, size, buf.length - size, size);
            if (bytesRead === 0)
                break;
            size += bytesRead;
        }
        return buf.subarray(0, size);
    }
    finally {
        await handle.close();
    }
}
/** A model file that cannot be read (permissions, removed while the step ran) is a problem of the model directory. */
function unreadableModelFile(e) {
    if (e instanceof _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ActionError */ .lZ)
        return e;
    return new _errors_js__WEBPACK_IMPORTED_MODULE_4__/* .ActionError */ .lZ(`a model file could not be read: ${e instanceof Error ? e.message : String(e)}`, {
        step: STEP,
        hint: 'Check that the model directory can be read by the job (permissions, files removed while the step ran). Nothing was registered.',
    });
}
/** Checks that MLmodel is a YAML mapping with a non-empty `flavors` mapping; returns the flavor names. */
function checkMlmodel(text) {
    const hint = 'Save the model with MLflow (mlflow.<flavor>.save_model) so that MLmodel is written for you, or fix the file by hand.';
    let doc;
    try {
        doc = (0,yaml__WEBPACK_IMPORTED_MODULE_3__/* .parse */ .qg)(text);
    }
    catch (err) {
        const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
        fail(`MLmodel is not valid YAML: ${reason}`, hint);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
        fail('MLmodel is not a YAML mapping', hint);
    const flavors = doc.flavors;
    if (flavors === null || typeof flavors !== 'object' || Array.isArray(flavors) || Object.keys(flavors).length === 0) {
        fail('MLmodel has no flavors: the "flavors" mapping is missing or empty', hint);
    }
    return Object.keys(flavors);
}


/***/ }),

/***/ 51926:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  registerMode: () => (/* binding */ registerMode)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
// EXTERNAL MODULE: ./lib/announce.js
var announce = __webpack_require__(34336);
// EXTERNAL MODULE: ./lib/errors.js
var errors = __webpack_require__(452);
// EXTERNAL MODULE: ./lib/hokusai.js
var hokusai = __webpack_require__(59543);
// EXTERNAL MODULE: ./lib/lineage.js
var lib_lineage = __webpack_require__(44830);
// EXTERNAL MODULE: ./lib/log.js
var log = __webpack_require__(97309);
// EXTERNAL MODULE: ./lib/manifest.js
var manifest = __webpack_require__(20886);
// EXTERNAL MODULE: ./lib/mlflow.js
var lib_mlflow = __webpack_require__(29650);
// EXTERNAL MODULE: ./lib/model-dir.js
var model_dir = __webpack_require__(73948);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
;// CONCATENATED MODULE: ./lib/receipt.js
// The receipt: one JSON file that says what was registered, from which commit and job,
// and every file's size and sha256. It is written after a successful registration and
// uploaded as a workflow artifact, so the job's page keeps a record even if the
// registry is later cleaned up. The upload is best effort: it never fails the step.




const RECEIPT_SCHEMA = 'hokusai-register-model/receipt@1';
/** Copies field by field: nothing else on the input objects leaks into the receipt. */
function buildReceipt(input) {
    const l = input.lineage;
    const files = input.files
        .map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 }))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const h = input.hokusai;
    return {
        schema: RECEIPT_SCHEMA,
        createdAt: input.createdAt.toISOString(),
        model: {
            name: input.modelName,
            version: input.version,
            uri: input.modelUri,
            versionUrl: input.versionUrl,
            source: input.source,
            aliases: [...input.aliases],
            reused: input.reused,
        },
        run: { id: input.runId, experimentId: input.experimentId },
        digest: input.digest,
        lineage: {
            commit: l.commit,
            ref: l.ref,
            branch: l.branch,
            repository: l.repository,
            workflow: l.workflow,
            actor: l.actor,
            eventName: l.eventName,
            runId: l.runId,
            runAttempt: l.runAttempt,
            runUrl: l.runUrl ?? null,
            prNumber: l.prNumber ?? null,
        },
        ...(h ? { hokusai: { tokenId: h.tokenId, metric: h.metric, value: h.value, proposalId: h.proposalId, event: h.event } } : {}),
        totals: { files: files.length, bytes: files.reduce((sum, f) => sum + f.size, 0) },
        files,
    };
}
/** Longest UTF-8 byte length of each part of a name; keeps file names under NAME_MAX (255 bytes). */
const MODEL_PART_BYTES = 80;
const VERSION_PART_BYTES = 20;
const JOB_PART_BYTES = 40;
const ATTEMPT_PART_BYTES = 10;
/** The longest name `artifactName` returns, in UTF-8 bytes: the fixed words plus each part's cap. */
const ARTIFACT_NAME_MAX_BYTES = 'hokusai-receipt--v--attempt'.length + MODEL_PART_BYTES + VERSION_PART_BYTES + JOB_PART_BYTES + ATTEMPT_PART_BYTES;
/**
 * Letters and digits of any script, `.`, `_` and `-`; anything else becomes `-`. That
 * excludes every character the artifact service or a file system refuses
 * (`" : < > | * ? \r \n \ /`, controls, NUL). A lossy or shortened part gets 8 hex digits of
 * the original's sha256, so two names that differ only in what was dropped stay apart.
 */
function safeNamePart(text, maxBytes, fallback) {
    if (!text)
        return fallback;
    const cleaned = Array.from(text, (ch) => (/^[\p{L}\p{N}._-]$/u.test(ch) ? ch : '-'))
        .join('')
        .replace(/-{2,}/g, '-')
        .replace(/^[-.]+|[-.]+$/g, '');
    if (cleaned === text && Buffer.byteLength(cleaned) <= maxBytes)
        return cleaned;
    const hash = (0,external_node_crypto_.createHash)('sha256').update(text, 'utf8').digest('hex').slice(0, 8);
    const head = truncateBytes(cleaned, maxBytes - hash.length - 1).replace(/[-.]+$/, '');
    return `${head || fallback}-${hash}`;
}
/** Cuts at a code-point boundary, never inside a character. */
function truncateBytes(text, maxBytes) {
    let out = '';
    let bytes = 0;
    for (const ch of text) {
        const n = Buffer.byteLength(ch);
        if (bytes + n > maxBytes)
            break;
        out += ch;
        bytes += n;
    }
    return out;
}
/**
 * `hokusai-receipt-<model>-v<version>-<job>-attempt<n>`. Artifact names are unique per workflow
 * run, so the job id keeps two jobs registering the same model apart, and the attempt keeps a
 * re-run from colliding with the artifact of the attempt before it.
 */
function artifactName(p) {
    const model = safeNamePart(p.modelName, MODEL_PART_BYTES, 'model');
    const version = safeNamePart(p.version, VERSION_PART_BYTES, 'unknown');
    const job = p.job ? `-${safeNamePart(p.job, JOB_PART_BYTES, 'job')}` : '';
    const attempt = /^\d{1,10}$/.test(p.runAttempt) ? p.runAttempt : '1';
    return `hokusai-receipt-${model}-v${version}${job}-attempt${attempt}`;
}
/** Writes `hokusai-receipt-<model>-v<version>.json` under `dir` (created if missing). */
async function writeReceipt(dir, receipt) {
    const model = safeNamePart(receipt.model.name, MODEL_PART_BYTES, 'model');
    const version = safeNamePart(receipt.model.version, VERSION_PART_BYTES, 'unknown');
    const file = external_node_path_.resolve(dir, `hokusai-receipt-${model}-v${version}.json`);
    await (0,promises_.mkdir)(external_node_path_.dirname(file), { recursive: true });
    // Every string redacted on its own: a server may put the key anywhere (artifact_uri, so the source).
    const text = JSON.stringify(receipt, (_key, value) => (typeof value === 'string' ? (0,log/* redactSecrets */.fp)(value) : value), 2);
    await (0,promises_.writeFile)(file, `${text}\n`, 'utf8');
    return file;
}
/**
 * Mirrors `isGhes()` in @actions/artifact 6.2.1 (`shared/config.ts`). Checked here first because
 * the library answers GHES with a `::warning::` that says "errors can be temporary, try again",
 * which is wrong there; the catch below still maps its GHESNotSupportedError as a backstop.
 */
function isGhesServer(serverUrl) {
    let host;
    try {
        host = new URL(serverUrl || 'https://github.com').hostname.trimEnd().toUpperCase();
    }
    catch {
        return false; // let the library report the malformed URL
    }
    return host !== 'GITHUB.COM' && !host.endsWith('.GHE.COM') && !host.endsWith('.LOCALHOST');
}
function ghesReason() {
    return 'the workflow artifact store used by @actions/artifact v2+ is not available on GitHub Enterprise Server';
}
/** Where the artifact can be downloaded from, when the run's coordinates are known. */
function artifactUrl(env, id) {
    const server = env.GITHUB_SERVER_URL?.replace(/\/+$/, '');
    const repo = env.GITHUB_REPOSITORY;
    const runId = env.GITHUB_RUN_ID;
    if (!server || !repo || !runId)
        return undefined;
    return `${server}/${repo}/actions/runs/${runId}/artifacts/${id}`;
}
/**
 * Maps anything the library throws to a result with a reason that says what to do. Matched by
 * message as well as by name: the library's twirp client rethrows its NetworkError and
 * UsageError as plain `Error("Failed to CreateArtifact: <message>")`.
 */
function classifyUploadError(err) {
    const name = err instanceof Error ? err.name : '';
    const message = ((err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '').replace(/[.\s]+$/, '');
    const kept = 'The registration itself succeeded.';
    if (name === 'GHESNotSupportedError' || /not currently supported on GHES/.test(message)) {
        return { kind: 'unavailable', reason: ghesReason() };
    }
    const network = /Unable to make request: (\w+)/.exec(message);
    if (name === 'NetworkError' || network) {
        return {
            kind: 'failed',
            reason: `could not reach the GitHub artifact service (${network?.[1] ?? message}). On a self-hosted runner behind a firewall, allow the GitHub Actions endpoints (results-receiver.actions.githubusercontent.com and *.blob.core.windows.net). ${kept}`,
        };
    }
    if (name === 'UsageError' || /storage quota has been hit/.test(message)) {
        return {
            kind: 'failed',
            reason: `the artifact storage quota of this account is used up: delete old artifacts or shorten their retention (repository or organization settings → Actions). ${kept}`,
        };
    }
    if (/\(409\)|Conflict/.test(message)) {
        return {
            kind: 'failed',
            reason: `an artifact with this name already exists in this workflow run (${message}). Give each registering step its own job, or register each model once per job. ${kept}`,
        };
    }
    return {
        kind: 'failed',
        reason: `artifact upload failed: ${message}. Re-run the job to try again, with ACTIONS_STEP_DEBUG=true for details. ${kept}`,
    };
}
/**
 * Uploads the receipt as a zipped workflow artifact. Never throws. `env` must be the
 * environment the library sees (it reads process.env itself); it decides, before loading the
 * library, whether an upload is possible. Retention is the repository's default: a few KB,
 * and the owner's retention policy should win.
 */
async function uploadReceipt(file, name, env) {
    if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
        return {
            kind: 'unavailable',
            reason: 'not running in the GitHub Actions runtime (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL are not set)',
        };
    }
    if (isGhesServer(env.GITHUB_SERVER_URL))
        return { kind: 'unavailable', reason: ghesReason() };
    // Loaded only here: it adds megabytes and start-up time to every run otherwise.
    let client;
    try {
        const { DefaultArtifactClient } = await Promise.all(/* import() */[__webpack_require__.e(351), __webpack_require__.e(645)]).then(__webpack_require__.bind(__webpack_require__, 9645));
        client = new DefaultArtifactClient();
    }
    catch (err) {
        return classifyUploadError(err);
    }
    // Two matrix legs of one job can reuse the same version: the second takes the next free name.
    for (let n = 1;; n++) {
        const candidate = n === 1 ? name : `${name}-${n}`;
        try {
            const result = await client.uploadArtifact(candidate, [file], external_node_path_.dirname(file));
            if (result.id === undefined)
                return { kind: 'failed', reason: 'the artifact service did not return an artifact id' };
            return { kind: 'uploaded', name: candidate, id: result.id, size: result.size ?? 0, url: artifactUrl(env, result.id) };
        }
        catch (err) {
            if (n < MAX_NAME_TRIES && isNameConflict(err))
                continue;
            return classifyUploadError(err);
        }
    }
}
const MAX_NAME_TRIES = 3;
const isNameConflict = (err) => /\(409\)|Conflict/.test(err instanceof Error ? err.message : String(err));

// EXTERNAL MODULE: ./lib/registration.js
var registration = __webpack_require__(61314);
// EXTERNAL MODULE: ./lib/session.js + 18 modules
var session = __webpack_require__(3296);
// EXTERNAL MODULE: ./lib/settle.js
var settle = __webpack_require__(508);
// EXTERNAL MODULE: ./lib/stores/store.js
var stores_store = __webpack_require__(331);
// EXTERNAL MODULE: ./lib/stores/road.js
var stores_road = __webpack_require__(8882);
// EXTERNAL MODULE: ./lib/summary.js
var summary = __webpack_require__(88847);
// EXTERNAL MODULE: ./lib/urls.js
var urls = __webpack_require__(10281);
;// CONCATENATED MODULE: ./lib/modes/register.js
// mode: register (the default). The model directory becomes a new version of the registered
// model: check the files, the key and the registry (read-only), start an MLflow run, upload
// through an artifact store, check the upload, create the version, wait until it is READY,
// set the aliases, end the run, tell Hokusai, write the receipt, the outputs and the summary.
// The same commit and content registered before is reused instead.



















const PROGRESS_EVERY_MS = 10_000;
async function registerMode(s) {
    const { cfg, mlflow, lineage, deps } = s;
    const { clock } = deps;
    // 1. The model directory: its files and flavors. Small files are hashed from here on, while
    // the registry is asked; large ones only when a version may be reused (else as they upload).
    const dir = await (0,session/* phase */.Oi)(s, 'Validate model directory', async () => {
        const found = await (0,model_dir/* scanModelDir */.my)(cfg.modelPath);
        log/* info */.pq(`${found.root}: ${found.files.length} files, ${(0,summary/* formatBytes */.z3)(found.totalBytes)}, flavors: ${found.flavors.join(', ')}`);
        return found;
    });
    const partsOf = (f) => (f.size >= cfg.multipartThreshold ? (0,stores_store/* planParts */.mM)(f.size) : undefined);
    const smallHashes = hashing((0,manifest/* buildManifest */.u1)(dir.files.filter((f) => f.size < HASH_WHILE_SENDING), partsOf));
    // Awaited inside the preflight; this only keeps an early failure from counting as unhandled.
    smallHashes.catch(() => undefined);
    // 2. The key and everything that only reads, side by side: a dry run stops after it.
    const preflight = await (0,session/* withKeyCheck */.SI)(s, 'Preflight (read-only)', async () => {
        const [registry, small] = await (0,settle/* settleAll */.j)([readRegistry(s), smallHashes]);
        return { ...registry, small };
    });
    // 3. The content digest: every file hashed first when a version may be reused (or for the
    // plan); otherwise the large files are hashed as they are sent, read once.
    const mayReuse = preflight.existing.length > 0 || cfg.dryRun;
    const large = dir.files.filter((f) => f.size >= HASH_WHILE_SENDING);
    const early = mayReuse && large.length ? [...preflight.small, ...(await hashLarge(s, large, partsOf))] : preflight.small;
    const complete = early.length === dir.files.length;
    let model = {
        files: dir.files,
        totalBytes: dir.totalBytes,
        digest: complete ? (0,manifest/* manifestDigest */.It)(early) : '',
        manifest: early,
    };
    if (complete)
        logDigest(model);
    else
        log/* info */.pq(`${large.length} large file${large.length === 1 ? ' is' : 's are'} hashed as ${large.length === 1 ? 'it goes' : 'they go'} up: no version of this commit can be reused.`);
    const decision = complete ? (0,registration/* decideReuse */.p9)(preflight.existing, model.digest, lineage.commit) : { kind: 'new', reason: undefined };
    if (cfg.dryRun) {
        const plan = {
            modelName: cfg.modelName,
            files: model.files.length,
            bytes: model.totalBytes,
            digest: model.digest,
            experimentName: cfg.experimentName,
            experimentId: preflight.experiment?.experiment_id,
            artifactPath: cfg.artifactPath,
            aliases: cfg.aliases,
            commit: lineage.commit,
            commitUrl: lineage.commitUrl,
            existingVersions: preflight.existing.map((v) => v.version),
            reuse: decision.kind === 'reuse' ? decision.version.version : undefined,
            modelExists: preflight.modelExists,
            road: roadLine(preflight.road),
            timings: s.timings,
            hokusai: cfg.hokusai,
            runUrl: lineage.runUrl,
            metrics: cfg.metrics,
        };
        log/* info */.pq(`Dry run: would register ${model.files.length} files (${(0,summary/* formatBytes */.z3)(model.totalBytes)}) as a new version of "${cfg.modelName}". Nothing was written.`);
        (0,session/* setOutputs */.n0)(s, { 'model-name': cfg.modelName, digest: model.digest, 'experiment-id': plan.experimentId ?? '' });
        await (0,session/* writeSummary */.Sy)(deps.env, (0,summary/* renderPlan */.EG)(plan), s.secrets, s, (0,summary/* renderPlan */.EG)(plan, { comment: true }));
        return;
    }
    // 4. The same commit and content are registered already: reuse that version.
    if (decision.kind === 'reuse')
        return reuseVersion(s, decision.version, model, preflight.experiment?.experiment_id);
    if (decision.reason)
        log/* info */.pq(decision.reason);
    // 5. An MLflow run to hold the files; from here on a failure ends it FAILED.
    const { experiment, runInfo } = await (0,session/* phase */.Oi)(s, 'Start MLflow run', async () => {
        const step = 'Start MLflow run';
        const { experiment: exp, restored } = await mlflow.ensureExperiment(step, cfg.experimentName, preflight.experiment);
        if (restored)
            log/* info */.pq(`Experiment "${cfg.experimentName}" was deleted; restored it.`);
        const runName = lineage.commit ? `${cfg.modelName}@${lineage.commit.slice(0, 7)}` : cfg.modelName;
        const tags = [...(0,lib_lineage/* mlflowSourceTags */.Q3)(lineage, deps.github.serverUrl), ...(0,lib_lineage/* lineageTags */.v4)(lineage, model.digest), ...userTags(cfg)];
        const requestId = (0,external_node_crypto_.randomUUID)();
        (0,session/* runRequested */.en)(s, exp.experiment_id, requestId);
        const info = await mlflow.createRun(step, exp.experiment_id, runName, clock.now(), tags, requestId);
        (0,session/* runStarted */.dj)(s, info);
        log/* info */.pq(`Experiment "${cfg.experimentName}" (id ${exp.experiment_id}), run ${info.run_id}`);
        log/* debug */.Yz(`Run artifact URI: ${info.artifact_uri}`);
        return { experiment: exp, runInfo: info };
    });
    // The run's own location decides the road; the preflight only predicted it.
    let { store } = preflight;
    const road = (0,session/* roadFor */.yR)(s, runInfo.artifact_uri, 'Start MLflow run');
    const moved = !sameRoad(road, preflight.road);
    if (moved)
        store = (0,session/* storeFor */.fV)(s, road);
    if (moved || !preflight.probed) {
        log/* info */.pq(`The run's artifact location is ${runInfo.artifact_uri}: ${road.why}.`);
        log/* info */.pq(await store.probe(experiment));
    }
    // 6. The files, then proof that every one arrived whole and can be served back, with the
    // manifest beside them and the metrics on the run. The registered model, when the preflight
    // found none, is created meanwhile (and removed if the upload fails).
    const modelCreation = preflight.modelExists ? undefined : mlflow.createRegisteredModel(REGISTER, cfg.modelName);
    modelCreation?.catch(() => undefined);
    const metricsLogged = cfg.metrics.length ? mlflow.logMetrics(UPLOAD, runInfo.run_id, cfg.metrics, clock.now()) : Promise.resolve();
    metricsLogged.catch(() => undefined);
    const uploadMs = await (0,session/* phase */.Oi)(s, UPLOAD, async () => {
        const t0 = clock.now();
        const progress = { filesDone: 0, files: model.files.length, bytesDone: 0, bytes: model.totalBytes, elapsedMs: 0 };
        let lastLog = t0;
        const report = () => {
            // A line about every 10 s, so long uploads show they are moving.
            if (clock.now() - lastLog < PROGRESS_EVERY_MS)
                return;
            lastLog = clock.now();
            log/* info */.pq((0,stores_store/* progressLine */.oz)({ ...progress, elapsedMs: lastLog - t0 }));
        };
        log/* debug */.Yz(`Uploading through the ${store.name}.`);
        const sent = await store.upload(runInfo, model.files, {
            concurrency: cfg.uploadConcurrency,
            multipartThreshold: cfg.multipartThreshold,
            clock,
            digests: new Map(model.manifest.map((e) => [e.path, e])),
            onBytes: (delta) => {
                progress.bytesDone += delta;
                report();
            },
            onFile: (f, how) => {
                progress.filesDone++;
                log/* debug */.Yz(`uploaded ${f.relPath} (${f.size} bytes${how === 'multipart' ? ', in parts' : ''})`);
            },
        });
        const ms = clock.now() - t0;
        log/* info */.pq(`Uploaded ${model.files.length} files (${(0,summary/* formatBytes */.z3)(model.totalBytes)}) in ${(0,summary/* formatDuration */.a3)(ms)}, ${(0,summary/* formatBytes */.z3)((model.totalBytes / Math.max(ms, 1)) * 1000)}/s.`);
        if (!complete) {
            // The large files were hashed as they went up: now the digest is whole.
            model = { ...model, manifest: (0,manifest/* sortManifest */.k1)([...model.manifest, ...sent]) };
            model.digest = (0,manifest/* manifestDigest */.It)(model.manifest);
            logDigest(model);
        }
        await (0,settle/* settleAll */.j)([
            store.verify(runInfo, model.files),
            store.saveManifest(runInfo, (0,manifest/* storedManifest */.fW)(model.manifest, model.digest)),
            metricsLogged,
        ]);
        log/* info */.pq(`Every file is in place with its full size (${store.name}); the manifest is stored as ${(0,manifest/* manifestPathFor */.ev)(cfg.artifactPath)}.`);
        if (cfg.metrics.length)
            log/* info */.pq(`Logged ${cfg.metrics.length === 1 ? '1 metric' : `${cfg.metrics.length} metrics`} on the run: ${cfg.metrics.map(([k, v]) => `${k}=${v}`).join(', ')}.`);
        return ms;
    }).catch(async (err) => {
        await dropCreatedModel(s, modelCreation);
        throw err;
    });
    // 7. The version, READY, with its aliases; from here on a failure names it.
    const source = store.source(runInfo);
    const version = await (0,session/* phase */.Oi)(s, 'Register model version', async () => {
        const { version: created, createdModel } = await (0,registration/* registerVersion */.KO)(mlflow, modelCreation ?? false, {
            name: cfg.modelName,
            source,
            runId: runInfo.run_id,
            // The Hokusai tags go on with the version itself: no window in which it lacks them.
            tags: [...(0,lib_lineage/* lineageTags */.v4)(lineage, model.digest), ...userTags(cfg), ...(cfg.hokusai ? (0,hokusai/* hokusaiTags */.kI)(cfg.hokusai, runInfo.run_id) : [])],
            runLink: lineage.runUrl,
            description: cfg.description,
        });
        s.registered = { modelUri: `models:/${cfg.modelName}/${created.version}`, version: created.version };
        log/* info */.pq(`${createdModel ? 'Created registered model' : 'Registered model exists:'} "${cfg.modelName}"; new version ${created.version} (${created.status ?? 'status unknown'}).`);
        try {
            const ready = await (0,registration/* awaitReady */.k3)(mlflow, clock, created, cfg.awaitTimeoutSeconds);
            // 8. The aliases and the run's end side by side: the run is done once the version is READY.
            await (0,settle/* settleAll */.j)([
                (0,registration/* setAliases */.dW)(mlflow, cfg.modelName, ready.version, cfg.aliases),
                // The run learns the digest now when its large files were hashed on the way up.
                complete ? Promise.resolve() : mlflow.setRunTag(FINISH, runInfo.run_id, 'model_digest', model.digest),
                mlflow.updateRun(FINISH, runInfo.run_id, 'FINISHED', clock.now()).then(() => (0,session/* runEnded */._9)(s)),
            ]);
            for (const alias of cfg.aliases)
                log/* info */.pq(`Alias ${alias} → version ${ready.version}`);
            return ready;
        }
        catch (err) {
            // The version exists by now: say so, so nobody looks for it in vain or registers twice blindly.
            if (!(err instanceof errors/* ActionError */.lZ))
                throw err;
            throw new errors/* ActionError */.lZ(`version ${created.version} of "${cfg.modelName}" was created, but ${err.message}`, {
                ...err.details(),
                hint: `${err.hint} The version stays registered as models:/${cfg.modelName}/${created.version}: check it in the registry before re-running.`,
            });
        }
    });
    // 9. The rest is telling people.
    await finish(s, version, model, {
        runId: runInfo.run_id,
        experimentId: experiment.experiment_id,
        source,
        reused: false,
        note: decision.reason,
        uploadMs,
    });
}
/** The same commit and content were registered before: point the aliases at that version, add nothing. */
async function reuseVersion(s, existing, model, experimentId) {
    const { cfg, mlflow, lineage, deps } = s;
    s.registered = { modelUri: `models:/${cfg.modelName}/${existing.version}`, version: existing.version };
    const reused = await (0,session/* phase */.Oi)(s, 'Reuse version', async () => {
        log/* info */.pq(`Version ${existing.version} of "${cfg.modelName}" was registered for commit ${lineage.commit.slice(0, 12)} with the same content: reusing it.`);
        if (cfg.metrics.length)
            log/* info */.pq('The metrics input is not logged again: the reused version keeps the metrics of the run that registered it.');
        const ready = await (0,registration/* awaitReady */.k3)(mlflow, deps.clock, existing, cfg.awaitTimeoutSeconds);
        // The aliases, the tags and the run's experiment (for the experiment-id output) side by side.
        // The first run may have had other token inputs: the version carries what this run says. A
        // run deleted since must not fail a reuse whose aliases are set.
        const runId = ready.run_id ?? '';
        const [, , run] = await (0,settle/* settleAll */.j)([
            (0,registration/* setAliases */.dW)(mlflow, cfg.modelName, ready.version, cfg.aliases),
            (0,announce/* tagWithToken */.mY)(s, ready),
            runId ? mlflow.getRun('Reuse version', runId).catch(() => undefined) : Promise.resolve(undefined),
        ]);
        for (const alias of cfg.aliases)
            log/* info */.pq(`Alias ${alias} → version ${ready.version}`);
        return { ready, run };
    });
    const { ready: version, run } = reused;
    const runId = version.run_id ?? '';
    await finish(s, version, model, {
        runId,
        experimentId: run?.experiment_id ?? experimentId ?? '',
        source: version.source ?? '',
        reused: true,
        note: undefined,
        uploadMs: undefined,
    });
}
/**
 * After MLflow has the version: tell Hokusai, write the receipt, set outputs, write the
 * summary. A failed event fails the step, but only after the version is in the outputs.
 */
async function finish(s, version, model, rest) {
    const { cfg, lineage } = s;
    const modelUri = `models:/${cfg.modelName}/${version.version}`;
    const versionUrl = (0,urls/* versionUiUrl */.e1)(cfg.trackingUri, cfg.modelName, version.version);
    const retry = `${(0,announce/* eventRetryHint */.KX)(cfg.modelName, version.version)}${lineage.commit ? ` Re-running this job does the same when the model files are unchanged (same commit and digest: the version is reused); a retrained model gets a new version, which is announced instead.` : ''}`;
    const notified = await (0,announce/* notifyHokusai */.k3)(s, version, rest.runId, modelUri);
    const event = notified && (0,announce/* withFailure */.fd)(notified, modelUri, retry);
    const receipt = await saveReceipt(s, version.version, model, { modelUri, versionUrl, ...rest }, event?.result);
    const result = {
        modelName: cfg.modelName,
        version: version.version,
        versionUrl,
        modelUri,
        aliases: cfg.aliases,
        files: model.files.length,
        bytes: model.totalBytes,
        digest: model.digest,
        experimentName: cfg.experimentName,
        commit: lineage.commit,
        commitUrl: lineage.commitUrl,
        mlflowRunUrl: rest.runId && rest.experimentId ? (0,urls/* runUiUrl */.pW)(cfg.trackingUri, rest.experimentId, rest.runId) : undefined,
        experimentUrl: rest.experimentId ? (0,urls/* experimentUiUrl */.Zw)(cfg.trackingUri, rest.experimentId) : undefined,
        runUrl: lineage.runUrl,
        durationMs: s.deps.clock.now() - s.started,
        fileList: model.manifest,
        timings: s.timings,
        hokusai: event?.result,
        receipt,
        description: cfg.description,
        tags: cfg.tags,
        ...rest,
    };
    (0,session/* setOutputs */.n0)(s, {
        'model-name': result.modelName,
        'model-version': result.version,
        'model-uri': result.modelUri,
        'run-id': result.runId,
        'experiment-id': result.experimentId,
        source: result.source,
        'version-url': result.versionUrl,
        digest: result.digest,
        reused: String(result.reused),
        'receipt-path': receipt?.path ?? '',
        ...(event ? { 'hokusai-event': event.result.event } : {}),
    });
    log/* info */.pq(`${result.reused ? 'Reused' : 'Registered'} ${result.modelUri} in ${(0,summary/* formatDuration */.a3)(result.durationMs)}.`);
    await (0,session/* writeSummary */.Sy)(s.deps.env, (0,summary/* renderSuccess */.a8)(result), s.secrets, s, (0,summary/* renderSuccess */.a8)(result, { comment: true }));
    if (event?.error)
        throw event.error;
}
/** Writes the receipt under RUNNER_TEMP and uploads it as a workflow artifact when the runtime allows. */
async function saveReceipt(s, version, model, rest, hokusai) {
    const { cfg, lineage, deps } = s;
    return (0,session/* phase */.Oi)(s, 'Write receipt', async () => {
        const receipt = buildReceipt({
            modelName: cfg.modelName,
            version,
            modelUri: rest.modelUri,
            versionUrl: rest.versionUrl,
            source: rest.source,
            runId: rest.runId,
            experimentId: rest.experimentId,
            digest: model.digest,
            aliases: cfg.aliases,
            reused: rest.reused,
            lineage,
            files: model.manifest,
            hokusai,
            createdAt: new Date(deps.clock.now()),
        });
        let path;
        try {
            path = await writeReceipt(deps.env.RUNNER_TEMP || external_node_os_.tmpdir(), receipt);
        }
        catch (e) {
            // The registration stands; a full or read-only disk only costs the receipt.
            log/* warning */.$e(`Could not write the receipt: ${e instanceof Error ? e.message : String(e)}. The registration itself succeeded.`, {
                title: 'Receipt not written',
            });
            return undefined;
        }
        log/* info */.pq(`Receipt written to ${path}.`);
        if (!cfg.uploadReceipt)
            return { path, note: 'upload-receipt is false' };
        const name = artifactName({ modelName: cfg.modelName, version, job: deps.env.GITHUB_JOB ?? '', runAttempt: lineage.runAttempt });
        const up = await uploadReceipt(path, name, deps.env);
        if (up.kind === 'uploaded') {
            log/* info */.pq(`Receipt uploaded as artifact "${up.name}"${up.url ? `: ${up.url}` : ''}.`);
            return { path, artifactName: up.name, artifactUrl: up.url };
        }
        const say = up.kind === 'unavailable' ? log/* notice */.lm : log/* warning */.$e;
        say(`${up.reason}. The receipt is at ${path}.`, { title: 'Receipt not uploaded' });
        return { path, note: up.reason };
    });
}
const REGISTER = 'Register model version';
const UPLOAD = 'Upload model';
const FINISH = 'Finish MLflow run';
/** An upload that failed leaves no registered model behind that this run created for it. */
async function dropCreatedModel(s, creation) {
    if (!(await creation?.catch(() => false)))
        return;
    // The cleanup client: it still works after a cancel.
    await s.cleanup.deleteEmptyRegisteredModel('Upload model', s.cfg.modelName).catch((e) => {
        log/* warning */.$e(`Could not remove the registered model "${s.cfg.modelName}" this run created for the upload: ${e instanceof Error ? e.message : String(e)}. It has no version.`);
    });
}
/** Files this large are hashed as they are sent when no version can be reused: read once, not twice. */
const HASH_WHILE_SENDING = 8 * 1024 * 1024;
/**
 * The registry's side of the preflight, its independent reads side by side: the experiment and
 * the road its files would take (probed), the registered model, and the versions of this commit.
 */
async function readRegistry(s) {
    const { cfg, mlflow, lineage } = s;
    const step = 'Preflight';
    const [road, registered, existing] = await (0,settle/* settleAll */.j)([
        (async () => {
            const experiment = await mlflow.getExperimentByName(step, cfg.experimentName);
            // A new experiment gets the server's default artifact root.
            const location = cfg.artifactStore ? undefined : (experiment?.artifact_location ?? (await mlflow.defaultArtifactLocation(step)));
            const chosen = (0,session/* roadFor */.yR)(s, location, step);
            const store = (0,session/* storeFor */.fV)(s, chosen);
            const where = `experiment "${cfg.experimentName}" ${experiment ? `has id ${experiment.experiment_id}` : 'does not exist yet'}`;
            // Where the server keeps a new experiment's files is unknown: a failing proxy probe must not
            // stop a registration that may go to a bucket; the run's own location decides, and is probed then.
            const probed = cfg.artifactStore !== undefined || location !== undefined;
            if (probed)
                log/* info */.pq(`${await store.probe(experiment)}; ${where}.`);
            else
                log/* info */.pq(`The server did not say where a new experiment's files go: the road is chosen once the run exists; ${where}.`);
            return { experiment, road: chosen, store, probed };
        })(),
        mlflow.getRegisteredModel(step, cfg.modelName),
        // One search: the digests in its answer decide a reuse, or say why a new version is made.
        lineage.commit ? mlflow.searchModelVersions(step, (0,lib_mlflow/* commitFilter */.su)(cfg.modelName, lineage.commit), COMMIT_VERSIONS) : Promise.resolve([]),
    ]);
    if (existing.length)
        log/* info */.pq(`Already registered for commit ${lineage.commit.slice(0, 12)}: version ${existing.map((v) => v.version).join(', ')}.`);
    return { ...road, modelExists: registered !== undefined, existing };
}
/** A commit has one version per content it was registered with: far fewer than this. */
const COMMIT_VERSIONS = 100;
/** The large files' sha256 (and their parts'), read before the upload: only when a reuse is possible. */
const hashLarge = (s, files, partsOf) => (0,session/* phase */.Oi)(s, 'Content digest', () => hashing((0,manifest/* buildManifest */.u1)(files, partsOf)));
/** A file that cannot be read is a problem of the model directory. */
const hashing = (p) => p.catch((e) => {
    throw (0,model_dir/* unreadableModelFile */.$Z)(e);
});
function logDigest(model) {
    log/* info */.pq(`Content digest ${model.digest}`);
    for (const e of model.manifest)
        log/* debug */.Yz(`${e.sha256}  ${e.size}  ${e.path}`);
}
const sameRoad = (a, b) => a.kind === b.kind &&
    (a.kind === 'proxy' || (b.kind === 's3' && (a.explicit || b.explicit ? a.explicit === b.explicit : a.base.bucket === b.base.bucket)));
/** Which road the files take and why, for the plan. */
const roadLine = (road) => road.kind === 'proxy' ? `MLflow artifact proxy (${road.why})` : `${(0,stores_road/* s3Uri */.tT)(road.base)}, with the job's AWS credentials (${road.why})`;
const userTags = (cfg) => cfg.tags.map(([key, value]) => ({ key, value }));


/***/ })

};
