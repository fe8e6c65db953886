"""Does a file of this name survive MLflow's own client? Log it, download it back, compare.

Usage: python name_roundtrip.py --tracking-uri URI NAMES_JSON

NAMES_JSON is a JSON list of relative paths ("/" separated). For each one, a directory
holding that file (and a control file) is logged to a new run with mlflow.log_artifacts,
then downloaded with mlflow.artifacts.download_artifacts, twice: as this (POSIX) client
does, and with the path separators MLflow's client uses on Windows, where its own
validate_path_is_safe also refuses "\\" in listed names (mlflow/utils/uri.py
_OS_ALT_SEPS, computed from os.sep). Prints one final JSON line:
  {name: {"posix": result, "windows": result}}
where result is "ok" (the file came back byte for byte), "lost: [names that came back]"
or "error: <exception>".
"""
import argparse
import json
import os
import tempfile
import warnings


def download(run_id: str, name: str, content: bytes, dst: str) -> str:
    import mlflow

    try:
        root = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model", dst_path=dst)
    except Exception as e:  # noqa: BLE001 - every failure is an answer here
        return f"error: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
    got = os.path.join(root, *name.split("/"))
    if os.path.isfile(got):
        with open(got, "rb") as f:
            if f.read() == content:
                return "ok"
    came = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
    return f"lost: {came}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tracking-uri", required=True)
    p.add_argument("names")
    a = p.parse_args()

    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.CRITICAL)
    import mlflow
    import mlflow.utils.uri as mlflow_uri

    mlflow.set_tracking_uri(a.tracking_uri)
    exp = mlflow.set_experiment("name-roundtrip")
    posix_seps = list(mlflow_uri._OS_ALT_SEPS)
    out = {}
    for name in json.loads(a.names):
        work = tempfile.mkdtemp()
        src = os.path.join(work, "src")
        path = os.path.join(src, *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        content = b"payload of " + name.encode("utf-8", "surrogateescape")
        with open(path, "wb") as f:
            f.write(content)
        with open(os.path.join(src, "control.txt"), "wb") as f:
            f.write(b"control")
        try:
            with mlflow.start_run(experiment_id=exp.experiment_id) as run:
                mlflow.log_artifacts(src, artifact_path="model")
        except Exception as e:  # noqa: BLE001
            err = f"error: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
            out[name] = {"posix": err, "windows": err}
            continue
        result = {"posix": download(run.info.run_id, name, content, os.path.join(work, "posix"))}
        mlflow_uri._OS_ALT_SEPS = ["\\"]
        try:
            result["windows"] = download(run.info.run_id, name, content, os.path.join(work, "windows"))
        finally:
            mlflow_uri._OS_ALT_SEPS = posix_seps
        out[name] = result
    print(json.dumps(out))


if __name__ == "__main__":
    main()
