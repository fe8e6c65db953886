"""Log a saved MLflow model directory in a run and register it, with MLflow's own client.

Usage: python register_with_python.py NAME MODEL_DIR [--experiment EXP] [--tracking-uri URI]
                                       [--artifact-path model]

The tracking URI comes from --tracking-uri or MLFLOW_TRACKING_URI (and a token, if
needed, from MLFLOW_TRACKING_TOKEN). Prints one final JSON line:
{"run_id": ..., "version": ..., "experiment_id": ..., "source": ..., "seconds": ...}
"""
import argparse
import json
import time
import warnings


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("name")
    p.add_argument("model_dir")
    p.add_argument("--experiment", default="python-reference")
    p.add_argument("--tracking-uri", default=None)
    p.add_argument("--artifact-path", default="model")
    a = p.parse_args()

    warnings.filterwarnings("ignore")
    import mlflow

    if a.tracking_uri:
        mlflow.set_tracking_uri(a.tracking_uri)
        mlflow.set_registry_uri(a.tracking_uri)

    t0 = time.monotonic()
    exp = mlflow.set_experiment(a.experiment)
    with mlflow.start_run(experiment_id=exp.experiment_id) as run:
        mlflow.log_artifacts(a.model_dir, artifact_path=a.artifact_path)
        run_id = run.info.run_id
    mv = mlflow.register_model(f"runs:/{run_id}/{a.artifact_path}", a.name)
    print(
        json.dumps(
            {
                "run_id": run_id,
                "version": str(mv.version),
                "experiment_id": exp.experiment_id,
                "source": mv.source,
                "seconds": round(time.monotonic() - t0, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
