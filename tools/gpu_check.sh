#!/usr/bin/env bash
# The CUDA check: s8_bench, then the default recipe's full 24-epoch run (LR finder included), on a CUDA machine.
# usage: tools/gpu_check.sh [OUT] [DATA] [SECONDS] [s8_train options...]
#   OUT: folder for the run and the logs (default runs/gpu); DATA: CIFAR-10 image folder (default ../shared/data/cifar10-jpeg);
#   SECONDS: stop training (Ctrl-C, so the finished epochs are kept) after this long (default 0: no limit);
#   S8_DEVICE=cpu runs the same steps on the CPU (a dry run of this script, with --subset and --epochs given).
# With gpu_bundle/ (tools/gpu_bundle.sh) in the project, its packages are used and its data unpacked first.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/gpu}; data=${2:-../shared/data/cifar10-jpeg}; limit=${3:-0}
mkdir -p "$out"
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d gpu_bundle ]; then
  export PYTHONPATH="$PYTHONPATH:$PWD/gpu_bundle/site"
  [ -d gpu_bundle/data ] || { mkdir -p gpu_bundle/data && xz -dc gpu_bundle/data.tar.xz | tar -C gpu_bundle/data -xf -; }
  data=$(ls -d gpu_bundle/data/*/ | head -1)
fi
dev=${S8_DEVICE:-cuda}
{ nvidia-smi -L; python3 -c "import torch, fastai; print('torch', torch.__version__, 'fastai', fastai.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA')"; } 2>&1 | tee "$out/env.txt"
echo "== s8_bench (fp16)"; timeout 120 python3 tools/s8.py s8_bench --data "$data" --device $dev --json "$out/bench.json" 2>&1 | tee "$out/bench.txt"
echo "== s8_train (the default recipe, 24 epochs)"
t0=$SECONDS
[ "$limit" -gt 0 ] || limit=1000000
timeout -s INT -k 30 "$limit" python3 tools/s8.py s8_train --data "$data" --out "$out/recipe24" --device $dev --overwrite --quiet "${@:4}" 2>&1 | tee "$out/train.txt"
echo "s8_train: $((SECONDS - t0)) s in all (exit ${PIPESTATUS[0]})" | tee -a "$out/train.txt"
[ -f "$out/recipe24/metrics.json" ] && cat "$out/recipe24/metrics.json"
[ -f "$out/recipe24/history.csv" ] && cat "$out/recipe24/history.csv"
exit 0
