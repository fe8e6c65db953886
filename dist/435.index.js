export const id = 435;
export const ids = [435];
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

/***/ 14435:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  verifyMode: () => (/* binding */ verifyMode)
});

// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 13 modules
var core = __webpack_require__(77094);
// EXTERNAL MODULE: ./lib/auth.js
var auth = __webpack_require__(65953);
// EXTERNAL MODULE: ./lib/errors.js
var errors = __webpack_require__(452);
// EXTERNAL MODULE: ./lib/mlflow.js
var lib_mlflow = __webpack_require__(29650);
// EXTERNAL MODULE: ./lib/settle.js
var settle = __webpack_require__(508);
;// CONCATENATED MODULE: ./lib/checks.js
// mode: verify. Read-only checks that tell a pull request, in seconds, whether the
// registry is usable with this key. Each check is a row in the summary; a failed check
// makes the later checks that depend on it "skipped", so the first failure is the one shown.




const CHECK_NAMES = {
    key: 'API key present',
    validation: 'Key validation',
    tracking: 'Tracking server',
    registry: 'Model registry',
    artifacts: 'Artifact proxy',
    store: 'Artifact store',
    model: 'Model',
};
/** Runs fn, timing it, and turns an ActionError into a failed check. */
async function attempt(name, clock, fn) {
    const t0 = clock.now();
    try {
        const out = await fn();
        return { name, latencyMs: clock.now() - t0, ...out };
    }
    catch (err) {
        if (!(err instanceof errors/* ActionError */.lZ))
            throw err;
        return {
            name,
            result: 'fail',
            latencyMs: clock.now() - t0,
            detail: `${err.message}${err.serverMessage ? ` (server said: ${err.serverMessage})` : ''}`,
            hint: err.hint,
            request: err.request,
        };
    }
}
const skipped = (name, detail) => ({ name, result: 'skipped', latencyMs: undefined, detail });
async function runChecks({ cfg, http, mlflow, clock, openRoad }) {
    const checks = [];
    // 1. Key present. Forks get no secrets, so by default a missing key skips, not fails.
    const needsKey = cfg.authUrl !== undefined;
    if (cfg.apiKey) {
        checks.push({ name: CHECK_NAMES.key, result: 'pass', latencyMs: undefined, detail: 'api-key is set (masked).' });
    }
    else if (cfg.requireKey) {
        checks.push({
            name: CHECK_NAMES.key,
            result: 'fail',
            latencyMs: undefined,
            detail: 'api-key is empty and require-key is true.',
            hint: 'Pass the key from a secret (api-key: ${{ secrets.HOKUSAI_API_KEY }}). Pull requests from forks get no secrets: set require-key: false for workflows they run.',
        });
    }
    else {
        checks.push(skipped(CHECK_NAMES.key, needsKey
            ? 'No api-key: expected on pull requests from forks, which get no secrets. The checks that need a key were skipped.'
            : 'No api-key given; none is needed with key validation off.'));
    }
    const haveKey = cfg.apiKey !== undefined;
    if (needsKey && !haveKey) {
        const why = 'needs the api-key.';
        checks.push(skipped(CHECK_NAMES.validation, why), skipped(CHECK_NAMES.tracking, why), skipped(CHECK_NAMES.registry, why));
        checks.push(skipped(CHECK_NAMES.artifacts, why));
        if (cfg.modelName)
            checks.push(skipped(CHECK_NAMES.model, why));
        return checks;
    }
    // 2.–6. Every check's requests at once, for a check that answers in one round trip or two;
    // a failed check still turns the ones that depend on it into "skipped", in this order.
    const { authUrl, apiKey } = cfg;
    const [validation, tracking, registry, store, model] = await Promise.all([
        authUrl && apiKey
            ? attempt(CHECK_NAMES.validation, clock, async () => {
                const info = await (0,auth/* validateKey */.U)(http, authUrl, apiKey, cfg.serviceId);
                const scopes = info.scopes ? `; scopes: ${info.scopes.join(', ') || 'none'}` : '';
                try {
                    (0,auth/* requireWrite */.Z)(info);
                }
                catch (err) {
                    if (!(err instanceof errors/* ActionError */.lZ))
                        throw err;
                    return {
                        result: 'warn',
                        detail: `Valid for "${info.serviceId}", but read-only${scopes}. Registering a model will fail.`,
                        hint: err.hint,
                    };
                }
                return { result: 'pass', detail: `Valid for "${info.serviceId}"${scopes}.` };
            })
            : skipped(CHECK_NAMES.validation, 'auth-url is empty: key validation is off.'),
        // Tracking server reachable and the credentials accepted.
        attempt(CHECK_NAMES.tracking, clock, async () => {
            await mlflow.searchExperiments(CHECK_NAMES.tracking);
            return { result: 'pass', detail: `Reachable at ${mlflow.trackingUri.href}; experiments/search answered.` };
        }),
        attempt(CHECK_NAMES.registry, clock, async () => {
            await mlflow.searchRegisteredModels(CHECK_NAMES.registry);
            return { result: 'pass', detail: 'registered-models/search answered.' };
        }),
        storeChecks({ cfg, mlflow, clock, openRoad }),
        cfg.modelName ? attempt(CHECK_NAMES.model, clock, () => modelCheck(mlflow, cfg.modelName)) : undefined,
    ]);
    const ifModel = (why) => (model ? [skipped(CHECK_NAMES.model, why)] : []);
    checks.push(validation);
    if (validation.result === 'fail') {
        const why = 'the key is not valid.';
        checks.push(skipped(CHECK_NAMES.tracking, why), skipped(CHECK_NAMES.registry, why), skipped(CHECK_NAMES.artifacts, why), ...ifModel(why));
        return checks;
    }
    checks.push(tracking);
    if (tracking.result === 'fail') {
        const why = 'the tracking server check failed.';
        checks.push(skipped(CHECK_NAMES.registry, why), skipped(CHECK_NAMES.artifacts, why), ...ifModel(why));
        return checks;
    }
    checks.push(registry, ...store, ...(model ? [model] : []));
    return checks;
}
/**
 * Where a registration's files would go: the artifact proxy (the route that failed alone in
 * July 2025), or straight to a bucket, which the proxy then need not serve.
 */
async function storeChecks({ cfg, mlflow, clock, openRoad }) {
    const location = cfg.artifactStore ? undefined : await artifactLocation(mlflow, cfg.experimentName);
    let opened;
    const road = await attempt(CHECK_NAMES.store, clock, async () => {
        opened = openRoad(location);
        return { result: 'pass', detail: '' };
    });
    if (!opened)
        return [skipped(CHECK_NAMES.artifacts, 'no store the action can write to (see Artifact store).'), road];
    if (opened.road.kind === 'proxy') {
        const why = opened.road.why;
        return [
            await attempt(CHECK_NAMES.artifacts, clock, async () => {
                await mlflow.probeArtifacts(CHECK_NAMES.artifacts, '');
                return { result: 'pass', detail: `The mlflow-artifacts route is routed and serving; files go through it (${why}).` };
            }),
        ];
    }
    const { store } = opened;
    return [
        skipped(CHECK_NAMES.artifacts, `not used: files go straight to the bucket (${opened.road.why}).`),
        await attempt(CHECK_NAMES.store, clock, async () => ({ result: 'pass', detail: `${await store.probe(undefined)}.` })),
    ];
}
/** The model, when named: its latest version and aliases, both asked at once. */
async function modelCheck(mlflow, name) {
    const [model, [latest]] = await (0,settle/* settleAll */.j)([
        mlflow.getRegisteredModel(CHECK_NAMES.model, name),
        mlflow.searchModelVersions(CHECK_NAMES.model, `name=${(0,lib_mlflow/* filterString */.GX)(name)}`, 1, 'version_number DESC'),
    ]);
    if (!model)
        return { result: 'pass', detail: `"${name}" is not registered yet; the first registration creates it.` };
    const aliases = (model.aliases ?? []).map((a) => `${a.alias} → ${a.version}`).join(', ');
    return { result: 'pass', detail: `"${name}" exists; latest version ${latest?.version ?? 'none'}; aliases: ${aliases || 'none'}.` };
}
/** The artifact location of the experiment a registration would use, or of a new one; undefined when unknown. */
async function artifactLocation(mlflow, experimentName) {
    try {
        const experiment = await mlflow.getExperimentByName(CHECK_NAMES.store, experimentName);
        return experiment?.artifact_location ?? (await mlflow.defaultArtifactLocation(CHECK_NAMES.store));
    }
    catch (err) {
        if (err instanceof errors/* ActionError */.lZ && err.code === 'CANCELLED')
            throw err;
        return undefined;
    }
}
function overallStatus(checks) {
    return checks.some((c) => c.result === 'fail') ? 'fail' : 'pass';
}
/** The `checks` output: one object per check. */
function checksJson(checks) {
    return JSON.stringify(checks.map((c) => ({
        name: c.name,
        result: c.result,
        latency_ms: c.latencyMs === undefined ? null : Math.round(c.latencyMs),
        detail: c.detail,
        ...(c.request ? { request: c.request } : {}),
        ...(c.hint ? { hint: c.hint } : {}),
    })));
}

// EXTERNAL MODULE: ./lib/log.js
var log = __webpack_require__(97309);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(38815);
;// CONCATENATED MODULE: ./lib/requirements.js
// Python requirements of a model directory, as MLflow writes them (requirements.txt, conda.yaml,
// python_env.yaml), parsed and compared. Pure.

// The files may come from a server: bound the work whatever they hold.
const MAX_TEXT_CHARS = 1024 * 1024;
const MAX_REQUIREMENTS = 10_000;
const MAX_LINE_CHARS = 64 * 1024;
/** How an unpinned side of a change reads. */
const ANY_VERSION = '(any)';
/** PEP 503: case-insensitive, with runs of "-", "_" and "." equivalent. */
function normalizeName(name) {
    return name.toLowerCase().replace(/[-_.]+/g, '-');
}
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
/**
 * One PEP 508 requirement ("name[extras] specifiers ; markers" or "name[extras] @ url ; markers"),
 * or undefined for anything else (options, bare paths and URLs, garbage).
 */
function parseRequirementLine(line) {
    let s = line.trim();
    if (s === '' || s.startsWith('-') || s.length > MAX_LINE_CHARS)
        return undefined;
    // pip's per-requirement options (--hash=..., --config-settings ...) follow the requirement.
    const option = /\s--[A-Za-z]/.exec(s);
    if (option)
        s = s.slice(0, option.index).trim();
    const nameMatch = NAME.exec(s);
    if (!nameMatch)
        return undefined;
    const name = nameMatch[0];
    let rest = s.slice(name.length).trimStart();
    let extras = '';
    if (rest.startsWith('[')) {
        const close = rest.indexOf(']');
        if (close < 0)
            return undefined;
        const list = rest
            .slice(1, close)
            .split(',')
            .map((e) => e.trim())
            .filter((e) => e !== '');
        extras = list.length > 0 ? `[${list.join(',')}]` : '';
        rest = rest.slice(close + 1).trimStart();
    }
    let url = '';
    let spec = '';
    let marker = '';
    if (rest.startsWith('@')) {
        rest = rest.slice(1).trim();
        // PEP 508: a marker after a URL needs whitespace before ";", since ";" may be part of a URL.
        const semi = /\s;/.exec(rest);
        url = (semi ? rest.slice(0, semi.index) : rest).trim();
        marker = semi ? rest.slice(semi.index + 2) : '';
        if (url === '')
            return undefined;
    }
    else {
        const semi = rest.indexOf(';');
        spec = (semi < 0 ? rest : rest.slice(0, semi)).replace(/\s+/g, '');
        marker = semi < 0 ? '' : rest.slice(semi + 1);
        // "name (>=1.0)" is the old parenthesized form of the same specifiers.
        if (spec.startsWith('(') && spec.endsWith(')'))
            spec = spec.slice(1, -1);
        if (spec !== '' && !/^(?:(?:===|==|!=|~=|<=|>=|<|>)[^,<>=!~;]+)(?:,(?:===|==|!=|~=|<=|>=|<|>)[^,<>=!~;]+)*$/.test(spec))
            return undefined;
    }
    marker = normalizeMarker(marker);
    const text = name + extras + (url ? ` @ ${url}` : spec) + (marker ? `; ${marker}` : '');
    const plain = /^==([^=,*]+)$/.exec(spec);
    const pin = plain && !extras && !url && !marker ? plain[1] : text.slice(name.length).trimStart();
    return { name, key: normalizeName(name), pin, text };
}
// One spelling for a marker however it was spaced or quoted: tokens separated by single spaces,
// double quotes, no space inside parentheses (as packaging prints markers).
function normalizeMarker(marker) {
    const tokens = marker.match(/"[^"]*"|'[^']*'|===|==|!=|~=|<=|>=|<|>|\(|\)|[^\s()<>=!~"']+|\S/g) ?? [];
    return tokens
        .map((t) => (t.startsWith("'") && !t.includes('"') ? `"${t.slice(1, -1)}"` : t))
        .join(' ')
        .replace(/\( /g, '(')
        .replace(/ \)/g, ')');
}
/** A requirements file in pip's syntax; options, comments and anything that is no requirement are skipped. */
function parseRequirementsTxt(text) {
    const out = [];
    const lines = String(text)
        .slice(0, MAX_TEXT_CHARS)
        .split(/\r?\n|\r/);
    let pending = '';
    for (const raw of lines) {
        // A comment needs whitespace (or the line start) before "#": "#sha256=" in a URL is no comment.
        const isComment = /^\s*#/.test(raw);
        if (!isComment && raw.endsWith('\\')) {
            pending += raw.slice(0, -1);
            continue;
        }
        const line = (pending + (isComment && pending ? ' ' : '') + raw).replace(/(^|\s)#.*$/, '');
        pending = '';
        const req = parseRequirementLine(line);
        if (req)
            out.push(req);
        if (out.length >= MAX_REQUIREMENTS)
            return out;
    }
    const last = parseRequirementLine(pending.replace(/(^|\s)#.*$/, ''));
    if (last && out.length < MAX_REQUIREMENTS)
        out.push(last);
    return out;
}
/** YAML as plain data, or undefined when it is no YAML; never throws, never warns. */
function readYaml(text) {
    try {
        // Failsafe: every scalar stays a string, so "python: 3.10" is "3.10", not 3.1.
        const doc = (0,dist/* parseDocument */.Tp)(String(text).slice(0, MAX_TEXT_CHARS), {
            schema: 'failsafe',
            uniqueKeys: false,
            logLevel: 'silent',
        });
        if (doc.errors.length > 0)
            return undefined;
        return doc.toJS({ maxAliasCount: 100 });
    }
    catch {
        return undefined;
    }
}
function isRecord(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function pipItems(list, out) {
    if (!Array.isArray(list))
        return;
    for (const item of list) {
        if (out.length >= MAX_REQUIREMENTS)
            return;
        if (typeof item !== 'string')
            continue;
        const req = parseRequirementLine(item);
        if (req)
            out.push(req);
    }
}
/** A conda match spec: "python=3.12.3", "pip<=25.1", "conda-forge::pkg=1.0", "numpy 1.26 py312_0". */
function parseCondaSpec(spec) {
    const s = spec.trim().replace(/\s+/g, ' ');
    if (s === '' || s.length > MAX_LINE_CHARS)
        return undefined;
    const channelEnd = s.lastIndexOf('::');
    const body = channelEnd < 0 ? s : s.slice(channelEnd + 2);
    const nameMatch = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*/.exec(body);
    if (!nameMatch)
        return undefined;
    const name = nameMatch[0];
    const rest = body
        .slice(name.length)
        .trim()
        .replace(/\s*([<>=!~,|])\s*/g, '$1');
    // "=1.2.3", "==1.2.3" and a bare "1.2.3" all pin that version.
    const plain = /^(?:==?)?([A-Za-z0-9][^\s<>=!~,|*]*)$/.exec(rest);
    const pin = plain ? plain[1] : rest;
    const text = s.slice(0, s.length - body.length) + name + (rest === '' ? '' : /^[<>=!~]/.test(rest) ? rest : ` ${rest}`);
    return { name, key: `conda:${normalizeName(name)}`, pin, text };
}
/** MLflow's conda.yaml: conda specs, and the pip requirements of its "pip:" entry. [] when it is not such a file. */
function parseCondaYaml(text) {
    const doc = readYaml(text);
    if (!isRecord(doc) || !Array.isArray(doc['dependencies']))
        return [];
    const out = [];
    for (const dep of doc['dependencies']) {
        if (out.length >= MAX_REQUIREMENTS)
            break;
        if (typeof dep === 'string') {
            const req = parseCondaSpec(dep);
            if (req)
                out.push(req);
        }
        else if (isRecord(dep)) {
            pipItems(dep['pip'], out);
        }
    }
    return out;
}
/** MLflow's python_env.yaml: the Python version, build dependencies and pip dependencies ("-r requirements.txt" is the other file). */
function parsePythonEnv(text) {
    const doc = readYaml(text);
    if (!isRecord(doc))
        return [];
    const out = [];
    const python = doc['python'];
    if (typeof python === 'string' && python.trim() !== '' && python.length <= MAX_LINE_CHARS) {
        const version = python.trim().replace(/\s+/g, ' ');
        // Spelled as conda.yaml spells it, so the same Python change in both files is shown once.
        out.push({ name: 'python', key: 'python', pin: version, text: `python=${version}` });
    }
    pipItems(doc['build_dependencies'], out);
    pipItems(doc['dependencies'], out);
    return out;
}
const PARSERS = {
    'requirements.txt': parseRequirementsTxt,
    'conda.yaml': parseCondaYaml,
    'python_env.yaml': parsePythonEnv,
};
function byKey(reqs) {
    // Within one file the last statement of a package wins.
    const map = new Map();
    for (const r of reqs) {
        map.delete(r.key);
        map.set(r.key, r);
    }
    return map;
}
const compareText = (a, b) => {
    const la = a.toLowerCase();
    const lb = b.toLowerCase();
    return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
};
/** Each file against the same file on the other side (absent is empty), merged, each change once. */
function diffRequirements(before, after) {
    const added = new Set();
    const removed = new Set();
    const changed = new Map();
    for (const file of Object.keys(PARSERS)) {
        const b = byKey(typeof before[file] === 'string' ? PARSERS[file](before[file]) : []);
        const a = byKey(typeof after[file] === 'string' ? PARSERS[file](after[file]) : []);
        for (const [key, req] of a) {
            const old = b.get(key);
            if (!old)
                added.add(req.text);
            else if (old.pin !== req.pin) {
                const change = { name: req.name, from: old.pin || ANY_VERSION, to: req.pin || ANY_VERSION };
                changed.set(JSON.stringify(change), change);
            }
        }
        for (const [key, req] of b)
            if (!a.has(key))
                removed.add(req.text);
    }
    return {
        added: [...added].sort(compareText),
        removed: [...removed].sort(compareText),
        changed: [...changed.values()].sort((x, y) => compareText(x.name, y.name) || compareText(x.from, y.from) || compareText(x.to, y.to)),
    };
}

;// CONCATENATED MODULE: ./lib/signature.js
// The MLmodel file's flavors and signature, read and compared (the model review). Pure.

// MLmodel may come from a server: bound the work whatever it holds.
const signature_MAX_TEXT_CHARS = 1024 * 1024;
const MAX_COLUMNS = 10_000;
const MAX_FLAVORS = 1_000;
const MAX_TYPE_DEPTH = 16;
const MAX_TYPE_CHARS = 1_000;
const NOTE_BEFORE_UNSIGNED = 'The registered version has no signature; all columns are shown as added.';
const NOTE_AFTER_UNSIGNED = 'This model has no signature; all columns of the registered version are shown as removed.';
function signature_isRecord(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** YAML as plain data, or undefined when it is no YAML; never throws, never warns. */
function signature_readYaml(text) {
    try {
        const doc = (0,dist/* parseDocument */.Tp)(String(text).slice(0, signature_MAX_TEXT_CHARS), { uniqueKeys: false, logLevel: 'silent' });
        if (doc.errors.length > 0)
            return undefined;
        return doc.toJS({ maxAliasCount: 100 });
    }
    catch {
        return undefined;
    }
}
/** A schema type compactly: "double", "array<string>", "object{a: long, b: string (optional)}", "map<double>". */
function renderType(spec, depth = 0) {
    if (typeof spec === 'string')
        return spec;
    if (!signature_isRecord(spec))
        return 'unknown';
    if (depth >= MAX_TYPE_DEPTH)
        return '…';
    const type = spec['type'];
    if (type === 'array')
        return `array<${renderType(spec['items'], depth + 1)}>`;
    if (type === 'map')
        return `map<${renderType(spec['values'], depth + 1)}>`;
    if (type === 'object') {
        const props = signature_isRecord(spec['properties']) ? Object.entries(spec['properties']).slice(0, MAX_COLUMNS) : [];
        return `object{${props.map(([k, p]) => `${k}: ${renderType(p, depth + 1)}${optional(p)}`).join(', ')}}`;
    }
    if (type === 'tensor')
        return renderTensor(spec['tensor-spec']);
    return typeof type === 'string' ? type : 'unknown';
}
function optional(spec) {
    return signature_isRecord(spec) && spec['required'] === false ? ' (optional)' : '';
}
function renderTensor(spec) {
    const dtype = signature_isRecord(spec) && typeof spec['dtype'] === 'string' ? spec['dtype'] : 'unknown';
    const shape = signature_isRecord(spec) && Array.isArray(spec['shape']) ? spec['shape'].map((d) => String(d)).join(', ') : '';
    return `tensor(${dtype}, [${shape}])`;
}
const clip = (s) => (s.length > MAX_TYPE_CHARS ? `${s.slice(0, MAX_TYPE_CHARS - 1)}…` : s);
/** One side of a signature: a JSON string as MLflow writes it (or already a list); undefined when unreadable. */
function readSchema(raw) {
    let list = raw;
    if (typeof raw === 'string') {
        try {
            list = JSON.parse(raw);
        }
        catch {
            return undefined;
        }
    }
    if (!Array.isArray(list))
        return undefined;
    return list.slice(0, MAX_COLUMNS).map((spec, i) => {
        const named = signature_isRecord(spec) && typeof spec['name'] === 'string' ? spec['name'] : undefined;
        return { name: named ?? `[${i}]`, type: clip(renderType(spec) + optional(spec)) };
    });
}
/** Flavors and signature of an MLmodel file; whatever cannot be read is left out, never thrown. */
function readMlmodelSummary(text) {
    const doc = signature_readYaml(text);
    if (!signature_isRecord(doc))
        return { flavors: [], signature: undefined };
    const flavors = signature_isRecord(doc['flavors']) ? Object.keys(doc['flavors']).slice(0, MAX_FLAVORS) : [];
    const sig = doc['signature'];
    if (!signature_isRecord(sig))
        return { flavors, signature: undefined };
    const inputs = readSchema(sig['inputs']);
    const outputs = readSchema(sig['outputs']);
    // A signature with neither side readable says nothing about the model's columns.
    if (!inputs && !outputs)
        return { flavors, signature: undefined };
    return { flavors, signature: { inputs: inputs ?? [], outputs: outputs ?? [] } };
}
function diffColumns(before, after) {
    const b = new Map(before.map((c) => [c.name, c]));
    const a = new Map(after.map((c) => [c.name, c]));
    const diff = { added: [], removed: [], changed: [] };
    for (const col of a.values()) {
        const old = b.get(col.name);
        if (!old)
            diff.added.push(col);
        else if (old.type !== col.type)
            diff.changed.push({ name: col.name, from: old.type, to: col.type });
    }
    for (const col of b.values())
        if (!a.has(col.name))
            diff.removed.push(col);
    return diff;
}
/** What changed from the registered version's MLmodel (undefined: there is none, so all is added) to this one. */
function diffMlmodel(before, after) {
    const beforeFlavors = new Set(before?.flavors ?? []);
    const afterFlavors = new Set(after.flavors);
    const flavors = {
        added: [...afterFlavors].filter((f) => !beforeFlavors.has(f)),
        removed: [...beforeFlavors].filter((f) => !afterFlavors.has(f)),
    };
    const b = before?.signature ?? { inputs: [], outputs: [] };
    const a = after.signature ?? { inputs: [], outputs: [] };
    const diff = {
        flavors,
        signature: { inputs: diffColumns(b.inputs, a.inputs), outputs: diffColumns(b.outputs, a.outputs) },
    };
    // Without a registered version there is nothing to note: everything is new.
    if (before && !before.signature && after.signature)
        diff.signatureNote = NOTE_BEFORE_UNSIGNED;
    if (before?.signature && !after.signature)
        diff.signatureNote = NOTE_AFTER_UNSIGNED;
    return diff;
}

;// CONCATENATED MODULE: ./lib/review.js


// Which way is better, for the metrics the action knows (MLflow's and the Hokusai platform's names).
const HIGHER = new Set([
    'accuracy',
    'accuracy_score',
    'balanced_accuracy',
    'auc',
    'auroc',
    'roc_auc',
    'pr_auc',
    'average_precision',
    'f1',
    'f1_score',
    'precision',
    'precision_score',
    'precision_recall_auc',
    'recall',
    'recall_score',
    'r2',
    'r2_score',
    'ndcg',
    'map',
    'mrr',
    'top_k_accuracy',
    'reply_rate',
    'conversion_rate',
    'engagement_score',
]);
const LOWER = new Set([
    'mse',
    'rmse',
    'mae',
    'mape',
    'mean_squared_error',
    'root_mean_squared_error',
    'mean_absolute_error',
    'mean_absolute_percentage_error',
    'log_loss',
    'logloss',
    'cross_entropy',
    'loss',
    'error',
    'error_rate',
    'brier_score',
    'max_error',
    'latency',
    'latency_ms',
]);
/**
 * Which way is better for a metric name: its own name, or its last part after a prefix such as
 * "val_" or "test/" ("val_auroc", "test/rmse"). Undefined for names the action does not know.
 */
function metricDirection(name) {
    const n = name.toLowerCase();
    const candidates = [n, n.replace(/^.*[/.:]/, ''), n.replace(/^(val|valid|validation|test|train|eval|holdout)_/, '')];
    for (const c of candidates) {
        if (HIGHER.has(c))
            return 'higher';
        if (LOWER.has(c))
            return 'lower';
    }
    return undefined;
}
/** Each of the candidate's metrics against the champion's value of the same name (pure). */
function compareMetrics(candidate, champion) {
    return candidate.map(([name, to]) => {
        const from = champion.get(name) ?? null;
        const direction = metricDirection(name);
        let verdict;
        if (from !== null && direction)
            verdict = to === from ? 'same' : to > from === (direction === 'higher') ? 'better' : 'worse';
        return { name, from, to, direction, verdict };
    });
}
/**
 * The files of the candidate against the version's: by sha256 where both sides have one, else by
 * size. `before` undefined means there is nothing to compare against (every file is new).
 */
function diffFiles(before, after, basis) {
    const old = new Map((before ?? []).map((f) => [f.path, f]));
    const out = { basis, added: [], removed: [], changed: [], unchanged: 0 };
    if (basis === 'none')
        return out;
    for (const f of after) {
        const o = old.get(f.path);
        old.delete(f.path);
        if (!o)
            out.added.push({ path: f.path, from: null, to: f.size });
        else if (o.size !== f.size || (basis === 'sha256' && o.sha256 !== f.sha256))
            out.changed.push({ path: f.path, from: o.size, to: f.size });
        else
            out.unchanged++;
    }
    for (const o of old.values())
        out.removed.push({ path: o.path, from: o.size, to: null });
    // Largest first, as a reader looks for what matters; then by path, so the output is stable.
    const bySize = (a, b) => Math.max(b.from ?? 0, b.to ?? 0) - Math.max(a.from ?? 0, a.to ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    out.added.sort(bySize);
    out.removed.sort(bySize);
    out.changed.sort(bySize);
    return out;
}
/** The whole review from both sides (pure). `before` undefined: the alias does not exist. */
function buildReview(p) {
    const basis = p.before ? p.basis : 'sha256';
    const unread = p.before?.unread ?? new Set();
    const notes = [...p.notes];
    const version = p.against ? `version ${p.against.version}` : 'the version';
    for (const part of unread)
        notes.push(`The ${part === 'MLmodel' ? 'MLmodel file' : part} of ${version} could not be read: not compared.`);
    const files = diffFiles(p.before?.files, p.after.files, basis);
    const requirements = unread.has('requirements')
        ? { added: [], removed: [], changed: [] }
        : diffRequirements(p.before?.requirements ?? {}, p.after.requirements);
    const afterMlmodel = p.after.mlmodel ?? { flavors: [], signature: undefined };
    const mlmodel = unread.has('MLmodel') ? diffMlmodel(afterMlmodel, afterMlmodel) : diffMlmodel(p.before?.mlmodel, afterMlmodel);
    const metrics = compareMetrics(p.metrics, unread.has('metrics') ? new Map() : (p.before?.metrics ?? new Map()));
    const sig = mlmodel.signature;
    // What could not be compared may have changed: never reported as unchanged. Files compared by
    // size alone may differ in content (a retrained model often keeps its sizes).
    const changed = p.against === null ||
        files.basis !== 'sha256' ||
        unread.size > 0 ||
        files.added.length + files.removed.length + files.changed.length > 0 ||
        requirements.added.length + requirements.removed.length + requirements.changed.length > 0 ||
        mlmodel.flavors.added.length + mlmodel.flavors.removed.length > 0 ||
        [sig.inputs, sig.outputs].some((c) => c.added.length + c.removed.length + c.changed.length > 0) ||
        metrics.some((m) => m.from !== m.to);
    return { modelName: p.modelName, compareTo: p.compareTo, against: p.against, changed, files, requirements, mlmodel, metrics, notes };
}
/** The `diff` output: the shape documented in docs/inputs.md, paths relative to the model directory. */
function reviewJson(r) {
    const paths = (ds) => ds.map((d) => d.path);
    return JSON.stringify({
        against: r.against ? { alias: r.against.alias, version: r.against.version } : null,
        changed: r.changed,
        files: { added: paths(r.files.added), removed: paths(r.files.removed), changed: paths(r.files.changed), compared: r.files.basis },
        requirements: r.requirements,
        signature: r.mlmodel.signature,
        flavors: r.mlmodel.flavors,
        metrics: r.metrics.map((m) => ({
            name: m.name,
            from: m.from,
            to: m.to,
            ...(m.direction ? { better: m.direction } : {}),
            ...(m.verdict ? { verdict: m.verdict } : {}),
        })),
    });
}

// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
// EXTERNAL MODULE: ./lib/manifest.js
var manifest = __webpack_require__(20886);
// EXTERNAL MODULE: ./lib/model-dir.js
var model_dir = __webpack_require__(73948);
// EXTERNAL MODULE: ./lib/session.js + 18 modules
var session = __webpack_require__(3296);
// EXTERNAL MODULE: ./lib/stores/road.js
var stores_road = __webpack_require__(8882);
;// CONCATENATED MODULE: ./lib/review-sides.js
// The two sides of the model review: the candidate model directory, read from disk, and the
// registered version an alias points at, read from the registry (read-only). What cannot be
// read becomes a note or a warning for the reader, never a failed step.








const REVIEW = 'Review model';
/** The files MLflow writes that say what the model needs. */
const REQUIREMENT_FILES = ['requirements.txt', 'conda.yaml', 'python_env.yaml'];
/** These files are a few KiB; the review reads no more of one than this. */
const TEXT_LIMIT_BYTES = 1024 * 1024;
/** The candidate directory, checked as register mode checks it (the same errors), and hashed. */
async function readCandidate(modelPath) {
    const dir = await (0,model_dir/* scanModelDir */.my)(modelPath);
    const files = await (0,manifest/* buildManifest */.u1)(dir.files).catch((e) => {
        throw (0,model_dir/* unreadableModelFile */.$Z)(e);
    });
    const text = async (name) => {
        const f = dir.files.find((x) => x.relPath === name);
        return f ? (await (0,model_dir/* readStart */.H6)(f.absPath, TEXT_LIMIT_BYTES)).toString('utf8') : undefined;
    };
    const reqs = await Promise.all(REQUIREMENT_FILES.map(text));
    return {
        dir,
        side: { files, requirements: requirementFiles(reqs), mlmodel: readMlmodelSummary(dir.mlmodel), metrics: new Map() },
    };
}
const requirementFiles = (texts) => Object.fromEntries(REQUIREMENT_FILES.flatMap((name, i) => (texts[i] === undefined ? [] : [[name, texts[i]]])));
/**
 * The version `alias` points at and what the review compares, in three rounds: the alias; what
 * is in the version's folder and beside it (where the stored manifest is), with the run's metrics;
 * then only the files that are there (servers answer 500, not 404, for a missing file). Only the
 * alias lookup may fail the review; anything else becomes a part not compared, and a warning.
 */
async function readRegistered(s, alias) {
    const { cfg, mlflow } = s;
    const version = await mlflow.getVersionByAlias(REVIEW, cfg.modelName, alias);
    if (!version)
        return { against: null, side: undefined, basis: 'none', notes: [], warnings: [] };
    const against = { alias, version: version.version, source: version.source ?? '', runId: version.run_id || undefined };
    const problems = new Problems(version.version);
    const unread = new Set();
    const notes = [];
    // 1. The run's metrics, beside where the files are and what is there.
    const [run, where] = await Promise.all([
        against.runId
            ? mlflow.getRunWithMetrics(REVIEW, against.runId).catch((e) => problems.add(`read the metrics of run ${against.runId}`, e))
            : undefined,
        locate(s, version, problems),
    ]);
    if (!run)
        unread.add('metrics');
    // 2. The files that are there, read side by side; the manifest, or else the listing's sizes.
    const { store, location, top, beside } = where ?? {};
    const present = (name) => top?.some((e) => e.name === name && !e.isDir) ?? false;
    const read = (name, part) => store && location && present(name)
        ? store.readText(`${location}/${name}`, REVIEW).catch((e) => {
            unread.add(part);
            return problems.add(`read ${name}`, e);
        })
        : Promise.resolve(undefined);
    const manifestName = location ? external_node_path_.posix.basename((0,manifest/* manifestUriFor */.nl)(location)) : '';
    const hasManifest = beside?.some((e) => e.name === manifestName && !e.isDir) ?? false;
    const [manifestText, mlmodel, listed, ...reqs] = await Promise.all([
        store && location && hasManifest
            ? store.readText((0,manifest/* manifestUriFor */.nl)(location), REVIEW).catch((e) => problems.add('read the stored manifest', e))
            : undefined,
        read('MLmodel', 'MLmodel'),
        // Without a manifest: every file's size, from a listing.
        store && location && top && !hasManifest
            ? store.list(location, REVIEW).catch((e) => problems.add('list the files', e))
            : undefined,
        ...REQUIREMENT_FILES.map((name) => read(name, 'requirements')),
    ]);
    if (!top)
        unread.add('MLmodel').add('requirements');
    let files;
    let basis = 'none';
    const stored = manifestText === undefined ? undefined : (0,manifest/* parseStoredManifest */.Cn)(manifestText);
    // A manifest that is there but unusable (rare: written by something else) costs a round more.
    const sizes = listed ??
        (hasManifest && !Array.isArray(stored) && store && location
            ? await store.list(location, REVIEW).catch((e) => problems.add('list the files', e))
            : undefined);
    if (Array.isArray(stored)) {
        files = stored;
        basis = 'sha256';
    }
    else if (sizes) {
        if (typeof stored === 'string')
            log/* debug */.Yz(`The stored manifest of version ${version.version} is not usable: ${stored}.`);
        files = sizes;
        basis = 'size';
        const why = typeof stored === 'string'
            ? `its stored manifest is not usable (${stored})`
            : 'it was registered without a manifest (by another client or an older action)';
        notes.push(`Version ${version.version}: ${why}. Files were compared by size, so their contents could not be compared.`);
    }
    if (basis === 'none')
        notes.push(`The files of version ${version.version} could not be read, so files were not compared.`);
    const warnings = problems.lines();
    return {
        against,
        side: {
            files,
            requirements: requirementFiles(reqs),
            mlmodel: mlmodel === undefined ? undefined : readMlmodelSummary(mlmodel),
            metrics: run?.metrics ?? new Map(),
            unread,
        },
        basis,
        // The summary shows what the log warns of.
        notes: [...notes, ...warnings],
        warnings,
    };
}
/**
 * Where the version's files are and what its folder, and the folder above (where the manifest
 * is kept), hold. A source that names no location (runs:/…, models:/…) is resolved by the server.
 */
async function locate(s, version, problems) {
    let location = (version.source ?? '').replace(/\/+$/, '');
    if (/^(runs|models):\//.test(location)) {
        const resolved = await s.mlflow
            .getDownloadUri(REVIEW, s.cfg.modelName, version.version)
            .catch((e) => problems.add(`find where the files of ${location} are`, e));
        location = (resolved ?? '').replace(/\/+$/, '');
    }
    if (!location)
        return undefined;
    const road = (0,stores_road/* chooseRoad */.W3)(undefined, location);
    if (!('kind' in road)) {
        problems.add('read the files', road.unsupported.replace(/which the action cannot write to yet/, 'which the action cannot read'));
        return undefined;
    }
    const store = (0,session/* storeFor */.fV)(s, road);
    const parent = location.slice(0, location.lastIndexOf('/'));
    const [top, beside] = await Promise.all([
        store.listDir(location, REVIEW).catch((e) => problems.add('list the files', e)),
        parent.includes('/') ? store.listDir(parent, REVIEW).catch(() => undefined) : undefined,
    ]);
    return { store, location, top, beside };
}
/** What could not be read, grouped by cause: one warning for one cause, however many reads it failed. */
class Problems {
    byCause = new Map();
    version;
    constructor(version) {
        this.version = version;
    }
    /** Records a failure; a cancel is not one. Returns undefined, what the failed read stands for. */
    add(what, e) {
        if (e instanceof errors/* ActionError */.lZ && e.code === 'CANCELLED')
            throw e;
        const cause = typeof e === 'string' ? e : describe(e);
        this.byCause.set(cause, [...(this.byCause.get(cause) ?? []), what]);
        return undefined;
    }
    lines() {
        return [...this.byCause].map(([cause, whats]) => `Could not ${whats.join(', ')} of version ${this.version}: ${cause}`);
    }
}
/** A failure in one line, with the request that failed and what to do. */
function describe(e) {
    if (!(e instanceof errors/* ActionError */.lZ))
        return e instanceof Error ? e.message : String(e);
    const request = e.request ? ` (request: ${e.request})` : '';
    const said = e.serverMessage ? `; the server said: ${e.serverMessage}` : '';
    return `${e.message}${said}${request}.${e.hint ? ` ${e.hint}` : ''}`;
}

// EXTERNAL MODULE: external "node:buffer"
var external_node_buffer_ = __webpack_require__(4573);
// EXTERNAL MODULE: ./lib/summary.js
var lib_summary = __webpack_require__(88847);
;// CONCATENATED MODULE: ./lib/review-summary.js
// The model review's section of the job summary and the pull-request comment: a verdict heading,
// then metrics, dependencies, MLmodel and files, each shown only when it says something. Pure.



// Each list is bounded twice: by lines, for the reader, and by bytes, since every value may be
// long and escape to five bytes a character.
const MAX_NOTES = 10;
const MAX_METRICS = 100;
const MAX_DEPENDENCIES = 50;
const review_summary_MAX_COLUMNS = 200;
const SECTION_BUDGET_BYTES = 64 * 1024;
const NAME_MAX = 200;
// Names in the heading: the line must stay one line a reader takes in at once.
const HEADING_NAME_MAX = 60;
const HEADING_METRICS = 2;
/**
 * A number as a person compares it: at most 4 decimals, or 4 significant digits below 1, with
 * no float noise (0.1 + 0.2 is "0.3") and no trailing zeros; exponents for the very small or large.
 */
function formatNumber(x) {
    if (!Number.isFinite(x))
        return String(x);
    if (x === 0)
        return '0';
    const abs = Math.abs(x);
    if (abs < 1e-4 || abs >= 1e15)
        return Number(x.toPrecision(4)).toExponential();
    return String(abs < 1 ? Number(x.toPrecision(4)) : Number(x.toFixed(4)));
}
/** The change cell: a signed delta with its arrow, and whether it is better when that is known. */
function metricChange(m) {
    if (m.from === null)
        return 'new';
    const delta = m.to - m.from;
    if (delta === 0 || m.verdict === 'same')
        return '=';
    const shown = formatNumber(delta);
    const arrow = delta > 0 ? `▲ +${shown}` : `▼ ${shown}`;
    const judged = m.verdict === 'better' ? ' ✅' : m.verdict === 'worse' ? ' ⚠️' : '';
    return `${arrow}${judged}`;
}
const fileDeltas = (r) => r.files.added.length + r.files.removed.length + r.files.changed.length;
const dependencyDeltas = (r) => r.requirements.added.length + r.requirements.removed.length + r.requirements.changed.length;
const columnDeltas = (c) => c.added.length + c.removed.length + c.changed.length;
const signatureChanged = (r) => columnDeltas(r.mlmodel.signature.inputs) + columnDeltas(r.mlmodel.signature.outputs) > 0 || !!r.mlmodel.signatureNote;
const flavorsChanged = (r) => r.mlmodel.flavors.added.length + r.mlmodel.flavors.removed.length > 0;
const newBytes = (r) => r.files.added.reduce((sum, f) => sum + (f.to ?? 0), 0);
// A heading is one line: line breaks in a name become spaces (after redaction, which may need them).
const oneLine = (s) => (0,log/* redactSecrets */.fp)(s).replace(/[\r\n]+/g, ' ');
const MARKDOWN = { name: (s) => (0,lib_summary/* code */.aY)(oneLine(s), HEADING_NAME_MAX), text: (s) => (0,lib_summary/* text */.Qq)(oneLine(s), HEADING_NAME_MAX) };
// The log redacts again and shows bidi controls; here only one line, clipped.
const PLAIN = { name: (s) => (0,lib_summary/* clip */.$Q)(oneLine(s), HEADING_NAME_MAX), text: (s) => (0,lib_summary/* clip */.$Q)(oneLine(s), HEADING_NAME_MAX) };
/** The verdict without its icon, and the icon. */
function verdict(r, s) {
    const model = s.name(r.modelName);
    if (!r.against) {
        const files = `${(0,lib_summary/* plural */.LS)(r.files.added.length, 'file')}, ${(0,lib_summary/* formatBytes */.z3)(newBytes(r))}`;
        return { icon: '🆕', line: `No ${s.text(r.compareTo)} for ${model} yet: everything is new (${files})` };
    }
    const against = `${s.text(r.against.alias)} (version ${s.text(r.against.version)})`;
    const worse = r.metrics.filter((m) => m.verdict === 'worse');
    const better = r.metrics.filter((m) => m.verdict === 'better');
    const fresh = r.metrics.filter((m) => m.from === null).length;
    const other = r.metrics.filter((m) => m.verdict === undefined && m.from !== null && m.from !== m.to).length;
    const metric = (m, how) => `${s.text(m.name)} ${how} (${formatNumber(m.from ?? 0)} → ${formatNumber(m.to)})`;
    const some = (ms, how) => [
        ...ms.slice(0, HEADING_METRICS).map((m) => metric(m, how)),
        ...(ms.length > HEADING_METRICS ? [`${(0,lib_summary/* plural */.LS)(ms.length - HEADING_METRICS, 'more metric')} ${how}`] : []),
    ];
    const files = fileDeltas(r);
    const deps = dependencyDeltas(r);
    // What a reviewer must not miss comes first: a metric that got worse.
    const parts = [
        ...some(worse, 'worse'),
        r.files.basis === 'none'
            ? 'files not compared'
            : files
                ? `${(0,lib_summary/* plural */.LS)(files, 'file')} changed`
                : r.files.basis === 'size'
                    ? 'no file changed in size (contents not compared)'
                    : '',
        deps ? `${(0,lib_summary/* plural */.LS)(deps, 'dependency', 'dependencies')} changed` : '',
        flavorsChanged(r) ? 'flavors changed' : '',
        signatureChanged(r) ? 'signature changed' : '',
        ...some(better, 'better'),
        other ? `${(0,lib_summary/* plural */.LS)(other, 'metric')} changed` : '',
        fresh ? (0,lib_summary/* plural */.LS)(fresh, 'new metric') : '',
    ].filter((p) => p);
    if (!r.changed && !worse.length)
        return { icon: '✅', line: `No change in ${model} against ${against}` };
    return {
        icon: worse.length ? '⚠️' : '🔍',
        line: `Review of ${model} against ${against}${parts.length ? `: ${parts.join(', ')}` : ''}`,
    };
}
/** The verdict in one plain line, for the log. */
function reviewVerdict(r) {
    return verdict(r, PLAIN).line;
}
/** Lines until `maxLines` or `budgetBytes`; how many were left out. */
function bounded(lines, maxLines, budgetBytes) {
    const shown = [];
    let room = budgetBytes;
    for (const line of lines.slice(0, maxLines)) {
        const bytes = external_node_buffer_.Buffer.byteLength(line) + 1;
        if (bytes > room)
            break;
        shown.push(line);
        room -= bytes;
    }
    return { shown, rest: lines.length - shown.length };
}
function renderMetrics(r) {
    if (!r.metrics.length)
        return '';
    const alias = (0,lib_summary/* text */.Qq)(oneLine(r.against?.alias ?? r.compareTo), HEADING_NAME_MAX);
    const rows = r.metrics.map((m) => `| ${(0,lib_summary/* code */.aY)(m.name, NAME_MAX)} | ${m.from === null ? '—' : formatNumber(m.from)} | ${formatNumber(m.to)} | ${metricChange(m)} |`);
    const { shown, rest } = bounded(rows, MAX_METRICS, SECTION_BUDGET_BYTES);
    const table = `| Metric | ${alias} | this change | Change |\n|---|---:|---:|---:|\n${shown.join('\n')}\n`;
    return `${table}${rest ? `\n… and ${(0,lib_summary/* plural */.LS)(rest, 'more metric')}.\n` : ''}\n`;
}
function renderDependencies(r) {
    const q = r.requirements;
    if (!dependencyDeltas(r))
        return '';
    const pin = (p) => (p ? (0,lib_summary/* text */.Qq)(p, lib_summary/* INLINE_MAX */.XL) : 'unpinned');
    const lines = [
        ...q.added.map((d) => `- added ${(0,lib_summary/* code */.aY)(d)}`),
        ...q.removed.map((d) => `- removed ${(0,lib_summary/* code */.aY)(d)}`),
        ...q.changed.map((c) => `- ${(0,lib_summary/* code */.aY)(c.name)} ${pin(c.from)} → ${pin(c.to)}`),
    ];
    const { shown, rest } = bounded(lines, MAX_DEPENDENCIES, SECTION_BUDGET_BYTES);
    if (rest)
        shown.push(`- … and ${(0,lib_summary/* plural */.LS)(rest, 'more dependency', 'more dependencies')}`);
    return `<b>Dependencies</b>\n\n${shown.join('\n')}\n\n`;
}
function renderMlmodel(r) {
    const m = r.mlmodel;
    if (!flavorsChanged(r) && !signatureChanged(r))
        return '';
    const column = (c) => `${(0,lib_summary/* code */.aY)(c.name, NAME_MAX)} (${(0,lib_summary/* text */.Qq)(c.type, NAME_MAX)})`;
    const columns = (what, d) => [
        ...d.added.map((c) => `- ${what} added ${column(c)}`),
        ...d.removed.map((c) => `- ${what} removed ${column(c)}`),
        ...d.changed.map((c) => `- ${what} ${(0,lib_summary/* code */.aY)(c.name, NAME_MAX)}: ${(0,lib_summary/* text */.Qq)(c.from, NAME_MAX)} → ${(0,lib_summary/* text */.Qq)(c.to, NAME_MAX)}`),
    ];
    const lines = [
        ...(m.signatureNote ? [`- ${(0,lib_summary/* text */.Qq)(m.signatureNote)}`] : []),
        ...m.flavors.added.map((f) => `- flavor added ${(0,lib_summary/* code */.aY)(f)}`),
        ...m.flavors.removed.map((f) => `- flavor removed ${(0,lib_summary/* code */.aY)(f)}`),
        ...columns('input', m.signature.inputs),
        ...columns('output', m.signature.outputs),
    ];
    const { shown, rest } = bounded(lines, review_summary_MAX_COLUMNS, SECTION_BUDGET_BYTES);
    if (rest)
        shown.push(`- … and ${(0,lib_summary/* plural */.LS)(rest, 'more change')}`);
    return `<b>MLmodel</b>\n\n${shown.join('\n')}\n\n`;
}
/** Collapsed; every added, removed and changed file in one table, largest first, until the budget. */
function renderFileChanges(r, budgetBytes) {
    const f = r.files;
    if (f.basis === 'none')
        return "📁 Files could not be compared: the version's files could not be listed.\n";
    const by = f.basis === 'sha256' ? 'sha256' : 'size only';
    if (!fileDeltas(r))
        return `📁 Files: all ${(0,lib_summary/* count */.U9)(f.unchanged)} unchanged (${by}).\n`;
    const size = (d) => Math.max(d.from ?? 0, d.to ?? 0);
    const all = ['changed', 'added', 'removed']
        .flatMap((kind) => f[kind].map((d) => ({ ...d, kind })))
        .sort((a, b) => size(b) - size(a) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const unchanged = f.unchanged ? `, ${(0,lib_summary/* count */.U9)(f.unchanged)} unchanged` : '';
    const sizeOnly = f.basis === 'size' ? '; compared by size only' : '';
    const summary = `📁 ${(0,lib_summary/* count */.U9)(f.changed.length)} changed, ${(0,lib_summary/* count */.U9)(f.added.length)} added, ${(0,lib_summary/* count */.U9)(f.removed.length)} removed${unchanged} (largest first${sizeOnly})`;
    const head = '| File | Change | Before | After |\n|---|---|---:|---:|\n';
    const bytes = (n) => (n === null ? '—' : (0,lib_summary/* formatBytes */.z3)(n));
    // Room for the wrapper and the "… and N more" line.
    let room = budgetBytes - external_node_buffer_.Buffer.byteLength(summary + head) - 600;
    const rows = [];
    for (const d of all) {
        const row = `| ${(0,lib_summary/* code */.aY)((0,lib_summary/* clipMiddle */.e9)((0,log/* redactSecrets */.fp)(d.path), lib_summary/* PATH_MAX */.n6), lib_summary/* PATH_MAX */.n6)} | ${d.kind} | ${bytes(d.from)} | ${bytes(d.to)} |\n`;
        const n = external_node_buffer_.Buffer.byteLength(row);
        if (n > room)
            break;
        rows.push(row);
        room -= n;
    }
    const rest = all.length - rows.length;
    const more = rest ? `\n… and ${(0,lib_summary/* plural */.LS)(rest, 'more file', 'more files')}: not listed here.\n` : '';
    return (0,lib_summary/* collapsed */.yZ)(summary, `${rows.length ? head + rows.join('') : ''}${more}`).replace(/^\n/, '');
}
/**
 * mode: verify with model-path. A `###` section: it follows the checks in the job summary and
 * stands alone in the pull-request comment; the caller caps the whole page.
 */
function renderReview(r, opts = {}) {
    const { icon, line } = verdict(r, MARKDOWN);
    const absent = r.against ? '' : `The alias ${(0,lib_summary/* code */.aY)(r.compareTo)} does not exist yet: there is nothing to compare against.\n\n`;
    // Each note its own quote: adjacent quote lines would run together as one paragraph.
    const notes = bounded(r.notes.map((n) => `> ${(0,lib_summary/* text */.Qq)(n)}\n\n`), MAX_NOTES, SECTION_BUDGET_BYTES);
    if (notes.rest)
        notes.shown.push(`> … and ${(0,lib_summary/* plural */.LS)(notes.rest, 'more note')}.\n\n`);
    return [
        `### ${icon} ${line}\n\n`,
        absent,
        notes.shown.join(''),
        renderMetrics(r),
        renderDependencies(r),
        renderMlmodel(r),
        renderFileChanges(r, opts.fileListBudgetBytes ?? lib_summary/* FILE_LIST_BUDGET_BYTES */.UN),
    ].join('');
}

;// CONCATENATED MODULE: ./lib/modes/verify.js
// mode: verify. Read-only checks of the registry for pull requests: is it reachable, does
// the key work, can the artifact route serve. With model-path, a review too: what this model
// directory changes against the version an alias (compare-to) points at. Nothing is written.









async function verifyMode(s) {
    const { cfg } = s;
    // 1. With model-path: the candidate directory, checked as register mode checks it, before any request.
    const candidate = cfg.modelPath
        ? await (0,session/* phase */.Oi)(s, 'Validate model directory', async () => {
            const c = await readCandidate(cfg.modelPath);
            log/* info */.pq(`${c.dir.root}: ${c.dir.files.length} files, ${(0,lib_summary/* formatBytes */.z3)(c.dir.totalBytes)}, flavors: ${c.dir.flavors.join(', ')}`);
            return c;
        })
        : undefined;
    // 2. The registered side of the review is read while the checks run: both only read.
    const keyMissing = cfg.authUrl !== undefined && !cfg.apiKey;
    const registered = candidate && !keyMissing ? readRegistered(s, cfg.compareTo) : undefined;
    registered?.catch(() => undefined);
    // 3. Every check, each on its own line of the log.
    const checks = await core/* group */.Os('Check the registry (read-only)', async () => {
        const openRoad = (location) => {
            const road = (0,session/* roadFor */.yR)(s, location, 'Artifact store');
            return { road, store: (0,session/* storeFor */.fV)(s, road) };
        };
        const results = await runChecks({ cfg, http: s.http, mlflow: s.mlflow, clock: s.deps.clock, openRoad });
        for (const c of results) {
            const latency = c.latencyMs === undefined ? '' : ` (${(0,lib_summary/* formatDuration */.a3)(c.latencyMs)})`;
            const say = (line) => log/* info */.pq(line);
            say(`${c.result.toUpperCase().padEnd(7)} ${c.name}${latency}: ${c.detail}`);
            if (c.request)
                say(`        request: ${c.request}`);
            if (c.hint && c.result !== 'pass')
                say(`        what to do: ${c.hint}`);
        }
        return results;
    });
    // 4. Annotations only for what a person must act on.
    for (const c of checks) {
        if (c.result === 'warn')
            log/* warning */.$e(`${c.detail} ${c.hint ?? ''}`.trim(), { title: c.name });
        if (c.result === 'skipped' && !cfg.apiKey && cfg.authUrl && c.name === 'API key present')
            log/* notice */.lm(c.detail, { title: 'No API key' });
    }
    // 5. The review, when asked for and the registry could be read.
    const review = candidate ? await (0,session/* phase */.Oi)(s, `${REVIEW} against ${cfg.compareTo}`, () => reviewModel(s, candidate, registered)) : undefined;
    // 6. Outputs, the summary's table and the review.
    const status = overallStatus(checks);
    log/* setOutput */.bk('status', status);
    log/* setOutput */.bk('checks', checksJson(checks));
    // Paths and names in the diff came from files and a server: redacted like every output.
    if (review)
        (0,session/* setOutputs */.n0)(s, { changed: String(review.changed), diff: reviewJson(review) });
    const page = (fileBudget) => `${(0,lib_summary/* renderChecks */.gH)(checks, { trackingUri: cfg.trackingUri.href, modelName: cfg.modelName, runUrl: s.lineage.runUrl })}${review ? `\n${renderReview(review, { fileListBudgetBytes: fileBudget })}` : ''}`;
    await (0,session/* writeSummary */.Sy)(s.deps.env, page(), s.secrets, s, review ? page(COMMENT_FILE_BUDGET) : undefined);
    // 7. A failed check fails the step; the summary already shows it. The review only informs.
    if (status === 'fail')
        throw checksFailed(checks);
}
/** A pull-request comment holds at most 64 KiB (comment.ts): the file table gets a third of it. */
const COMMENT_FILE_BUDGET = 20 * 1024;
/** Both sides compared; undefined (with a notice or warning) when the registered side could not be read. */
async function reviewModel(s, candidate, registered) {
    const { cfg } = s;
    if (!registered) {
        log/* notice */.lm('The review reads the registry with the api-key, which is empty (pull requests from forks get no secrets): not reviewed.', {
            title: 'Model not reviewed',
        });
        return undefined;
    }
    let side;
    try {
        side = await registered;
    }
    catch (err) {
        if (!(err instanceof errors/* ActionError */.lZ) || err.code === 'CANCELLED')
            throw err;
        const request = err.request ? ` Request: ${err.request}.` : '';
        log/* warning */.$e(`Could not find the version "${cfg.compareTo}" points at: ${err.message}.${request} ${err.hint}`, {
            title: 'Model not reviewed',
        });
        return undefined;
    }
    if (!side.against)
        log/* notice */.lm(`"${cfg.modelName}" has no version with the alias "${cfg.compareTo}" yet: the review shows everything as new.`, {
            title: `No ${cfg.compareTo} yet`,
        });
    for (const w of side.warnings)
        log/* warning */.$e(w, { title: 'Review incomplete' });
    const review = buildReview({
        modelName: cfg.modelName,
        compareTo: cfg.compareTo,
        against: side.against,
        before: side.side,
        after: candidate.side,
        metrics: cfg.metrics,
        basis: side.basis,
        notes: side.notes,
    });
    log/* info */.pq(reviewVerdict(review));
    const worse = review.metrics.filter((m) => m.verdict === 'worse');
    if (worse.length)
        log/* warning */.$e(`Worse than ${cfg.compareTo}: ${worse.map((m) => `${m.name} ${m.from} → ${m.to} (${m.direction} is better)`).join(', ')}.`, {
            title: 'Metrics got worse',
        });
    for (const n of review.notes)
        log/* info */.pq(n);
    for (const d of [...review.files.added, ...review.files.removed, ...review.files.changed])
        log/* debug */.Yz(`${d.from === null ? 'added' : d.to === null ? 'removed' : 'changed'} ${d.path} (${d.from ?? '-'} → ${d.to ?? '-'} bytes)`);
    return review;
}
function checksFailed(checks) {
    const failed = checks.filter((c) => c.result === 'fail');
    return new errors/* ActionError */.lZ(`${failed.length} of ${checks.length} checks failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.request ? `\n    request: ${c.request}` : ''}`).join('\n')}`, { step: 'Check the registry', hint: failed[0]?.hint ?? 'See the checks above.', reported: true });
}


/***/ })

};
