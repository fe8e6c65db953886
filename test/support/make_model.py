"""Train a small deterministic scikit-learn model and save it as an MLflow model dir.

Usage: python make_model.py OUT_DIR

* OUT_DIR must not exist (or be empty); it receives the MLflow model (MLmodel,
  model.pkl, requirements, input example, ...). No tracking server is involved.
* OUT_DIR + ".expected.json" (outside the model dir) receives
  {"input": [row dicts], "predictions": [...]} for checking a round-tripped model.
* Prints one final JSON line: {"model_dir": ..., "expected": ...}
"""
import json
import os
import sys
import warnings


def main() -> None:
    if len(sys.argv) != 2:
        print("usage: make_model.py OUT_DIR", file=sys.stderr)
        sys.exit(2)
    out_dir = os.path.abspath(sys.argv[1])
    if os.path.isdir(out_dir) and not os.listdir(out_dir):
        os.rmdir(out_dir)  # save_model refuses existing dirs
    if os.path.exists(out_dir):
        print(f"make_model.py: {out_dir} already exists and is not empty", file=sys.stderr)
        sys.exit(2)

    warnings.filterwarnings("ignore")
    import mlflow
    import mlflow.sklearn
    import sklearn
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris(as_frame=True)
    X = iris.data  # pandas DataFrame, float64 columns like "sepal length (cm)"
    y = iris.target
    model = LogisticRegression(max_iter=1000, random_state=0)
    model.fit(X, y)

    sample = X.iloc[::15].reset_index(drop=True)  # 10 rows spread over all 3 classes
    predictions = model.predict(sample)
    signature = infer_signature(X, model.predict(X))

    os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    mlflow.sklearn.save_model(
        model,
        out_dir,
        signature=signature,
        input_example=X.iloc[:5],
        # Explicit requirements: skips mlflow's (slow, subprocess-based) inference.
        pip_requirements=[f"mlflow=={mlflow.__version__}", f"scikit-learn=={sklearn.__version__}"],
    )

    expected_path = out_dir.rstrip(os.sep) + ".expected.json"
    with open(expected_path, "w") as f:
        json.dump(
            {
                "input": sample.to_dict(orient="records"),
                "predictions": [int(p) for p in predictions],
            },
            f,
            indent=2,
        )
    print(json.dumps({"model_dir": out_dir, "expected": expected_path}))


if __name__ == "__main__":
    main()
