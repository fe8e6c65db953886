export const id = 720;
export const ids = [720];
export const modules = {

/***/ 85720:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   promoteMode: () => (/* binding */ promoteMode)
/* harmony export */ });
/* harmony import */ var _announce_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(34336);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(452);
/* harmony import */ var _log_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(97309);
/* harmony import */ var _lineage_js__WEBPACK_IMPORTED_MODULE_8__ = __webpack_require__(44830);
/* harmony import */ var _mlflow_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(29650);
/* harmony import */ var _registration_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(61314);
/* harmony import */ var _session_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(3296);
/* harmony import */ var _summary_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(88847);
/* harmony import */ var _urls_js__WEBPACK_IMPORTED_MODULE_7__ = __webpack_require__(10281);
// mode: promote. Points the aliases at an existing version, chosen by number or by the
// commit it was registered for; nothing is uploaded or created. With token-id, it also
// tags the version and sends its Hokusai event (the way to resend a failed one).









async function promoteMode(s) {
    const { cfg, mlflow, lineage, deps } = s;
    // 1. The version, found while the key is validated.
    const target = await (0,_session_js__WEBPACK_IMPORTED_MODULE_5__/* .withKeyCheck */ .SI)(s, FIND, () => findVersion(s));
    const { version } = target;
    if (version.status === 'FAILED_REGISTRATION')
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`version ${version.version} of "${cfg.modelName}" failed to register, so it cannot be promoted`, {
            step: FIND,
            serverMessage: version.status_message,
            hint: 'Register the model again, then promote the new version.',
        });
    _log_js__WEBPACK_IMPORTED_MODULE_2__/* .info */ .pq(`Version ${version.version} of "${cfg.modelName}"${target.chosenBy.kind === 'commit' ? ` (registered for commit ${target.chosenBy.commit.slice(0, 12)})` : ''}.`);
    if (target.others.length)
        _log_js__WEBPACK_IMPORTED_MODULE_2__/* .info */ .pq(`The commit also has version ${target.others.join(', ')}; the newest, ${version.version}, is promoted.`);
    const aliases = (0,_registration_js__WEBPACK_IMPORTED_MODULE_4__/* .currentAliases */ .Qi)(target.model, cfg.aliases);
    const result = {
        modelName: cfg.modelName,
        version: version.version,
        versionUrl: (0,_urls_js__WEBPACK_IMPORTED_MODULE_7__/* .versionUiUrl */ .e1)(cfg.trackingUri, cfg.modelName, version.version),
        modelUri: `models:/${cfg.modelName}/${version.version}`,
        chosenBy: target.chosenBy.kind === 'commit' ? { ...target.chosenBy, commitUrl: commitUrlOf(s, target.chosenBy.commit) } : target.chosenBy,
        aliases,
        digest: (0,_registration_js__WEBPACK_IMPORTED_MODULE_4__/* .versionTag */ .Vm)(version, 'model_digest'),
        source: version.source,
        runId: version.run_id,
        runUrl: lineage.runUrl,
        timings: s.timings,
    };
    const outputs = {
        'model-name': cfg.modelName,
        'model-version': version.version,
        'model-uri': result.modelUri,
        'version-url': result.versionUrl,
        'run-id': version.run_id ?? '',
        source: version.source ?? '',
        digest: result.digest ?? '',
    };
    // 2. A dry run stops here: it says what would move, and writes nothing.
    if (cfg.dryRun) {
        const status = version.status && version.status !== 'READY' ? ` (now ${version.status})` : '';
        const what = aliases.length ? `point ${aliases.map((a) => a.alias).join(', ')} at` : 'tag';
        _log_js__WEBPACK_IMPORTED_MODULE_2__/* .info */ .pq(`Dry run: would ${what} version ${version.version}${status}. Nothing was written.`);
        (0,_session_js__WEBPACK_IMPORTED_MODULE_5__/* .setOutputs */ .n0)(s, outputs);
        const token = cfg.hokusai;
        const plan = token && {
            ...(0,_announce_js__WEBPACK_IMPORTED_MODULE_0__/* .tokenAbout */ .nE)(token),
            event: 'skipped',
            detail: token.notify
                ? 'dry run: a real run tags the version and sends the registration event'
                : 'dry run: a real run tags the version (notify-hokusai is false)',
        };
        const durationMs = deps.clock.now() - s.started;
        const page = { ...result, durationMs, dryRun: true, hokusai: plan };
        await (0,_session_js__WEBPACK_IMPORTED_MODULE_5__/* .writeSummary */ .Sy)(deps.env, (0,_summary_js__WEBPACK_IMPORTED_MODULE_6__/* .renderPromotion */ .Wz)(page), s.secrets, s, (0,_summary_js__WEBPACK_IMPORTED_MODULE_6__/* .renderPromotion */ .Wz)(page, { comment: true }));
        return;
    }
    // 3. Wait until the version can be served, then move the aliases and tag it.
    const ready = await (0,_session_js__WEBPACK_IMPORTED_MODULE_5__/* .phase */ .Oi)(s, 'Promote version', async () => {
        if (version.status !== 'READY')
            _log_js__WEBPACK_IMPORTED_MODULE_2__/* .info */ .pq(`Waiting for version ${version.version} (${version.status ?? 'status unknown'}) to become READY.`);
        const current = await (0,_registration_js__WEBPACK_IMPORTED_MODULE_4__/* .awaitReady */ .k3)(mlflow, deps.clock, version, cfg.awaitTimeoutSeconds).catch((e) => {
            if (!(e instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ) || e.code !== _registration_js__WEBPACK_IMPORTED_MODULE_4__/* .VERSION_NOT_READY */ .Fc)
                throw e;
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(e.message, {
                ...e.details(),
                hint: 'This version cannot be promoted: promote another one with the version input, or register the model again.',
            });
        });
        await (0,_registration_js__WEBPACK_IMPORTED_MODULE_4__/* .setAliases */ .dW)(mlflow, cfg.modelName, current.version, cfg.aliases);
        for (const a of aliases)
            _log_js__WEBPACK_IMPORTED_MODULE_2__/* .info */ .pq(`Alias ${a.alias}: ${a.previous === current.version ? `already on version ${current.version}` : `${a.previous ? `version ${a.previous}` : 'new'} → version ${current.version}`}`);
        if (cfg.hokusai)
            await (0,_announce_js__WEBPACK_IMPORTED_MODULE_0__/* .tagWithToken */ .mY)(s, current);
        return current;
    });
    // 4. Tell Hokusai, then outputs and summary; a failed event fails the step after them.
    const notified = await (0,_announce_js__WEBPACK_IMPORTED_MODULE_0__/* .notifyHokusai */ .k3)(s, ready, ready.run_id ?? '', result.modelUri);
    const event = notified && (0,_announce_js__WEBPACK_IMPORTED_MODULE_0__/* .withFailure */ .fd)(notified, result.modelUri, 'Then run this step again: it sends only what is missing.');
    (0,_session_js__WEBPACK_IMPORTED_MODULE_5__/* .setOutputs */ .n0)(s, { ...outputs, ...(event ? { 'hokusai-event': event.result.event } : {}) });
    const verb = cfg.aliases.length ? 'Promoted' : event?.result.event === 'sent' ? 'Announced' : 'Tagged';
    const durationMs = deps.clock.now() - s.started;
    _log_js__WEBPACK_IMPORTED_MODULE_2__/* .info */ .pq(`${verb} ${result.modelUri} in ${(0,_summary_js__WEBPACK_IMPORTED_MODULE_6__/* .formatDuration */ .a3)(durationMs)}.`);
    const page = { ...result, durationMs, hokusai: event?.result };
    await (0,_session_js__WEBPACK_IMPORTED_MODULE_5__/* .writeSummary */ .Sy)(deps.env, (0,_summary_js__WEBPACK_IMPORTED_MODULE_6__/* .renderPromotion */ .Wz)(page), s.secrets, s, (0,_summary_js__WEBPACK_IMPORTED_MODULE_6__/* .renderPromotion */ .Wz)(page, { comment: true }));
    if (event?.error)
        throw event.error;
}
const FIND = 'Find the version to promote';
/** The commit's page on GitHub: git-sha may name another commit than the one this run is for. */
const commitUrlOf = (s, commit) => s.lineage.repository ? (0,_lineage_js__WEBPACK_IMPORTED_MODULE_8__/* .commitPageUrl */ .QX)(s.deps.github.serverUrl, s.lineage.repository, commit) : undefined;
/** The version named by the version input, else the newest usable one of the commit. */
async function findVersion(s) {
    const { cfg, mlflow, lineage } = s;
    const commit = cfg.version ? undefined : (cfg.gitSha ?? lineage.commit);
    if (!cfg.version && !commit)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ('there is no commit to look the version up by', {
            step: FIND,
            hint: 'Outside GitHub Actions there is no current commit: set git-sha to the registered commit, or version to the version number.',
        });
    // The model and its version side by side; a missing model is the error to report.
    const [model, found] = await Promise.allSettled([
        mlflow.getRegisteredModel(FIND, cfg.modelName),
        cfg.version
            ? mlflow.getModelVersion(FIND, cfg.modelName, cfg.version).then((v) => [v])
            : mlflow.searchModelVersions(FIND, (0,_mlflow_js__WEBPACK_IMPORTED_MODULE_3__/* .commitFilter */ .su)(cfg.modelName, commit ?? ''), 50),
    ]);
    if (model.status === 'rejected')
        throw model.reason;
    if (!model.value)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`the registered model "${cfg.modelName}" does not exist on this tracking server`, {
            step: FIND,
            hint: 'Check model-name (names are case-sensitive) and tracking-uri; a model has to be registered (mode: register) before it can be promoted.',
        });
    if (found.status === 'rejected') {
        const e = found.reason;
        if (cfg.version && e instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ && e.status === 404)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .ActionError */ .lZ(`version ${cfg.version} of "${cfg.modelName}" does not exist`, {
                ...e.details(),
                hint: `Check the version input. The versions are listed on the model's page in the registry UI.`,
            });
        throw e;
    }
    if (!commit)
        return { model: model.value, version: found.value[0], chosenBy: { kind: 'version' }, others: [] };
    const { version, others } = (0,_registration_js__WEBPACK_IMPORTED_MODULE_4__/* .pickCommitVersion */ .H_)(found.value, cfg.modelName, commit);
    return { model: model.value, version, chosenBy: { kind: 'commit', commit }, others };
}


/***/ })

};
