export const id = 396;
export const ids = [396];
export const modules = {

/***/ 57396:
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
            request: err.method && err.path ? `${err.method} ${err.path}${err.status === undefined ? '' : ` → HTTP ${err.status}`}` : undefined,
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
// EXTERNAL MODULE: ./lib/session.js + 18 modules
var session = __webpack_require__(3296);
// EXTERNAL MODULE: ./lib/summary.js
var summary = __webpack_require__(88847);
;// CONCATENATED MODULE: ./lib/modes/verify.js
// mode: verify. Read-only checks of the registry for pull requests: is it reachable, does
// the key work, can the artifact route serve. Nothing is written to the registry.






async function verifyMode(s) {
    const { cfg } = s;
    // 1. Every check, each on its own line of the log.
    const checks = await core/* group */.Os('Check the registry (read-only)', async () => {
        const openRoad = (location) => {
            const road = (0,session/* roadFor */.yR)(s, location, 'Artifact store');
            return { road, store: (0,session/* storeFor */.fV)(s, road) };
        };
        const results = await runChecks({ cfg, http: s.http, mlflow: s.mlflow, clock: s.deps.clock, openRoad });
        for (const c of results) {
            const latency = c.latencyMs === undefined ? '' : ` (${(0,summary/* formatDuration */.a3)(c.latencyMs)})`;
            const say = (line) => log/* info */.pq(line);
            say(`${c.result.toUpperCase().padEnd(7)} ${c.name}${latency}: ${c.detail}`);
            if (c.request)
                say(`        request: ${c.request}`);
            if (c.hint && c.result !== 'pass')
                say(`        what to do: ${c.hint}`);
        }
        return results;
    });
    // 2. Annotations only for what a person must act on.
    for (const c of checks) {
        if (c.result === 'warn')
            log/* warning */.$e(`${c.detail} ${c.hint ?? ''}`.trim(), { title: c.name });
        if (c.result === 'skipped' && !cfg.apiKey && cfg.authUrl && c.name === 'API key present')
            log/* notice */.lm(c.detail, { title: 'No API key' });
    }
    // 3. Outputs and the summary's table.
    const status = overallStatus(checks);
    log/* setOutput */.bk('status', status);
    log/* setOutput */.bk('checks', checksJson(checks));
    await (0,session/* writeSummary */.Sy)(s.deps.env, (0,summary/* renderChecks */.gH)(checks, { trackingUri: cfg.trackingUri.href, modelName: cfg.modelName, runUrl: s.lineage.runUrl }), s.secrets, s);
    // 4. A failed check fails the step; the summary already shows it.
    if (status === 'fail') {
        const failed = checks.filter((c) => c.result === 'fail');
        throw new errors/* ActionError */.lZ(`${failed.length} of ${checks.length} checks failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.request ? `\n    request: ${c.request}` : ''}`).join('\n')}`, { step: 'Check the registry', hint: failed[0]?.hint ?? 'See the checks above.', reported: true });
    }
}


/***/ })

};
