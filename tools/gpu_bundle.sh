#!/usr/bin/env bash
# Pack what tools/gpu_check.sh needs on a CUDA machine that has PyTorch but no internet: the packages s8_fastai uses
# beyond PyTorch's stack (the active environment's versions, as wheels for that machine's Python, unpacked) and the data
# folder as one archive.
# usage: tools/gpu_bundle.sh [DATA] [PYTHON]    DATA: CIFAR-10 image folder (default ../shared/data/cifar10-jpeg);
#   PYTHON: the CUDA machine's Python version (default 3.12); writes gpu_bundle/
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(cd "${1:-../shared/data/cifar10-jpeg}" && pwd)
rm -rf gpu_bundle && mkdir -p gpu_bundle/site
v() { python -c "from importlib.metadata import version; print(version('$1'))"; }
python -m pip download -q --no-deps --only-binary=:all: --python-version "${2:-3.12}" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d gpu_bundle/wheels \
  $(for p in fastai fastcore fastprogress fastdownload fasttransform plum-dispatch beartype ttach; do echo "$p==$(v $p)"; done)
python -m pip wheel -q --no-deps -w gpu_bundle/wheels "grad-cam==$(v grad-cam)"   # published as source only (pure Python)
for w in gpu_bundle/wheels/*.whl; do python -m zipfile -e "$w" gpu_bundle/site; done
# fastprogress imports fasthtml (a web framework with many dependencies) for its notebook HTML alone; consoles need none of it
mkdir -p gpu_bundle/site/fasthtml && touch gpu_bundle/site/fasthtml/__init__.py gpu_bundle/site/fasthtml/common.py
tar -C "$(dirname "$data")" --sort=name -cf - "$(basename "$data")" | xz -T0 -6 > gpu_bundle/data.tar.xz
rm -rf gpu_bundle/wheels
du -sh gpu_bundle/site gpu_bundle/data.tar.xz
