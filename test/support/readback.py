"""Read a registered model version back with MLflow's own Python client and check it.

Usage: python readback.py --tracking-uri URI --name NAME --version V
                          --original DIR --expected EXPECTED_JSON [--alias A ...]

Downloads models:/NAME/V, compares every file byte-for-byte with DIR (both ways),
loads it with mlflow.pyfunc, predicts on the expected input, resolves aliases and
reads the version and its run. Auth (if any) comes from MLflow's env handling,
e.g. MLFLOW_TRACKING_TOKEN. Prints one final JSON line:
  {"files_identical", "mismatches": [{"path","problem",...}], "client_added_files",
   "predictions_match", "predictions", "load_error", "aliases": {alias: version|null},
   "alias_errors", "version": {status,source,run_id,tags,description},
   "run": {status,tags} | null}
Exits non-zero only on unexpected errors (e.g. the version does not exist);
mismatches, load failures and unknown aliases are reported in the JSON.
"""
import argparse
import filecmp
import json
import os
import tempfile
import traceback
import warnings

# Written by the MLflow client itself into a downloaded models:/ directory
# (ModelsArtifactRepository._add_registered_model_meta_file); never on the server.
CLIENT_ADDED_FILES = {"registered_model_meta"}


def list_files(root: str) -> set:
    out = set()
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            out.add(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return out


def same_predictions(got, expected) -> bool:
    import numpy as np

    g = np.asarray(got)
    e = np.asarray(expected)
    if g.shape != e.shape:
        return False
    if np.issubdtype(g.dtype, np.number) and np.issubdtype(e.dtype, np.number):
        return bool(np.allclose(g.astype(float), e.astype(float), rtol=1e-9, atol=1e-12))
    return bool((g == e).all())


def to_jsonable(preds):
    import numpy as np
    import pandas as pd

    if isinstance(preds, (pd.DataFrame, pd.Series)):
        preds = preds.to_numpy()
    if isinstance(preds, np.ndarray):
        return preds.tolist()
    return preds


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tracking-uri", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--original", required=True)
    p.add_argument("--expected", required=True)
    p.add_argument("--alias", action="append", default=[])
    a = p.parse_args()

    warnings.filterwarnings("ignore")
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(a.tracking_uri)
    mlflow.set_registry_uri(a.tracking_uri)
    client = MlflowClient(tracking_uri=a.tracking_uri, registry_uri=a.tracking_uri)

    result = {
        "files_identical": False,
        "mismatches": [],
        "client_added_files": [],
        "predictions_match": False,
        "predictions": None,
        "load_error": None,
        "aliases": {},
        "alias_errors": {},
        "version": None,
        "run": None,
    }

    mv = client.get_model_version(a.name, a.version)
    result["version"] = {
        "status": mv.status,
        "source": mv.source,
        "run_id": mv.run_id,
        "tags": dict(mv.tags or {}),
        "description": mv.description,
    }

    with tempfile.TemporaryDirectory(prefix="readback-") as tmp:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{a.name}/{a.version}", dst_path=tmp
        )
        original = os.path.abspath(a.original)
        got = list_files(local)
        want = list_files(original)
        mismatches = []
        for rel in sorted(want - got):
            mismatches.append({"path": rel, "problem": "missing"})
        for rel in sorted(got - want):
            if rel in CLIENT_ADDED_FILES:
                result["client_added_files"].append(rel)
                continue
            mismatches.append({"path": rel, "problem": "extra"})
        for rel in sorted(want & got):
            o = os.path.join(original, rel)
            d = os.path.join(local, rel)
            if not filecmp.cmp(o, d, shallow=False):
                mismatches.append(
                    {
                        "path": rel,
                        "problem": "content differs",
                        "original_size": os.path.getsize(o),
                        "downloaded_size": os.path.getsize(d),
                    }
                )
        result["mismatches"] = mismatches
        result["files_identical"] = not mismatches

        with open(a.expected) as f:
            expected = json.load(f)
        try:
            model = mlflow.pyfunc.load_model(local)
            preds = to_jsonable(model.predict(pd.DataFrame(expected["input"])))
            result["predictions"] = preds
            result["predictions_match"] = same_predictions(preds, expected["predictions"])
        except Exception:  # report, don't crash: the caller asserts
            result["load_error"] = traceback.format_exc(limit=5)

    for alias in a.alias:
        try:
            result["aliases"][alias] = str(client.get_model_version_by_alias(a.name, alias).version)
        except Exception as e:
            result["aliases"][alias] = None
            result["alias_errors"][alias] = str(e)[:500]

    if mv.run_id:
        run = client.get_run(mv.run_id)
        result["run"] = {"status": run.info.status, "tags": dict(run.data.tags or {})}

    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
