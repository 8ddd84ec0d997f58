#!/usr/bin/env bash
# The CUDA check, one script for a lent GPU: s8_bench eager and compiled (Learner against a bare loop, with the host
# syncs of the timed steps counted), a strict check that no training step waits for the GPU (tools/sync_check.py), then
# the default recipe's full 24-epoch run (LR finder, TTA and report included), eager and with --compile.
# usage: tools/gpu_check.sh [OUT] [DATA] [s8_train options...]
#   OUT: folder for the runs and logs (default runs/gpu); DATA: CIFAR-10 image folder (default ../shared/data/cifar10-jpeg).
#   S8_DEVICE=cpu runs the same steps on the CPU (a dry run of this script: give --subset and --epochs, S8_BENCH_STEPS=2).
#   S8_GPU_BUDGET: seconds the whole script may take (default 540, inside one 600-second device call); each step gets
#   its own cap or what is left of the budget, whichever is less, and a step with under 20 s left is skipped, so the
#   summary at the end is always printed.
# With gpu_bundle/ (tools/gpu_bundle.sh) in the project, its packages are used and its data unpacked first.
# The results without the weights, as one file to copy back from a remote machine:
#   tools/gpu_check.sh runs/gpu; tar -czf gpu.tgz --exclude='*.pth' --exclude='*.pkl' runs/gpu
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/gpu}; data=${2:-../shared/data/cifar10-jpeg}
mkdir -p "$out"
export MPLBACKEND=Agg PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -d gpu_bundle ]; then
  export PYTHONPATH="$PYTHONPATH:$PWD/gpu_bundle/site"
  if [ ! -d gpu_bundle/data ]; then  # unpacked by Python (no xz binary needed), in full or not at all
    rm -rf gpu_bundle/data.tmp
    python3 -c "import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')" gpu_bundle/data.tar.xz gpu_bundle/data.tmp \
      && mv gpu_bundle/data.tmp gpu_bundle/data || { echo "gpu_check: cannot unpack gpu_bundle/data.tar.xz"; exit 1; }
  fi
  data=$(ls -d gpu_bundle/data/*/ | head -1)
  [ -d "$data" ] || { echo "gpu_check: no data folder in gpu_bundle/data"; exit 1; }
fi
dev=${S8_DEVICE:-cuda}; steps=${S8_BENCH_STEPS:-200}
{ nvidia-smi -L 2>/dev/null; nproc; python3 -c "import torch, fastai; print('torch', torch.__version__, 'fastai', fastai.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA')"; } 2>&1 | tee "$out/env.txt"
budget=${S8_GPU_BUDGET:-540}; start=$SECONDS
run() {  # run CAP cmd...: cmd under min(CAP, what is left of the budget less 25 s for the summary) seconds
  local left=$(( budget - (SECONDS - start) - 25 )) t=$1; shift
  (( left < t )) && t=$left
  if (( t < 20 )); then echo "skipped (${left} s left of the ${budget}-second budget): $*"; return 124; fi
  timeout -s INT -k 10 "$t" "$@"
}
train() {  # train MODE [flags]: the default recipe's full run, the whole command timed
  local mode=$1; shift
  echo "== s8_train, the default recipe, $mode"
  local t0=$(date +%s.%N)
  run 420 python3 tools/s8.py s8_train --data "$data" --out "$out/recipe_$mode" --device $dev --overwrite --quiet "$@" "${extra[@]}" 2>&1 | tee "$out/train_$mode.txt"
  echo "s8_train ($mode): $(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')") s for the whole command (exit ${PIPESTATUS[0]})" | tee -a "$out/train_$mode.txt"
}
extra=("${@:3}")
echo "== s8_bench, eager"; run 180 python3 tools/s8.py s8_bench --data "$data" --device $dev --steps $steps --json "$out/bench_eager.json" 2>&1 | tee "$out/bench_eager.txt"
if [ "$dev" = cuda ]; then
  echo "== strict sync check"
  run 180 python3 tools/sync_check.py "$data" > "$out/sync_check_full.txt" 2>&1
  echo "exit $?" >> "$out/sync_check_full.txt"; tail -40 "$out/sync_check_full.txt" | tee "$out/sync_check.txt"
fi
train eager
echo "== s8_bench, compiled"; run 300 python3 tools/s8.py s8_bench --data "$data" --device $dev --steps $steps --compile --json "$out/bench_compile.json" 2>&1 | tee "$out/bench_compile.txt"
train compile --compile
echo "== summary ($((SECONDS - start)) s of the ${budget}-second budget used)"
python3 - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
b = {m: json.loads((out/f'bench_{m}.json').read_text()) for m in ('eager', 'compile') if (out/f'bench_{m}.json').exists()}
if (out/'sync_check.txt').exists(): print('sync check:', ' | '.join((out/'sync_check.txt').read_text().strip().splitlines()[-2:]))
for m, r in b.items(): print(f"bench {m}: bare loop {r['raw_img_s']:,.0f} img/s, Learner {r['learner_img_s']:,.0f} ({r['ratio']:.3f}), host syncs {r.get('host_syncs')}")
for m in ('eager', 'compile'):
    f = out/f'recipe_{m}'/'metrics.json'
    if not f.exists(): print(f'{m}: no metrics.json'); continue
    r = json.loads(f.read_text())
    whole = [l for l in (out/f'train_{m}.txt').read_text().splitlines() if 'whole command' in l]
    print(f"{m}: test {r['test_accuracy']:.4f}, flip {r['test_accuracy_flip']:.4f}, flip+translate {r['test_accuracy_flip_translate']:.4f}; "
          + ', '.join(f"{k} {r.get(k, 0):.1f}" for k in ('train_seconds', 'test_seconds', 'decode_seconds', 'lr_find_seconds', 'compile_seconds', 'checkpoint_seconds', 'tta_seconds', 'wall_seconds'))
          + f"; {whole[-1] if whole else ''}")
# the README's GPU table, one row per mode
print('\n| run | training phase (s) | whole command (s) | Learner / bare loop | test accuracy (flip TTA) |\n|---|---|---|---|---|')
for m, flag in (('eager', ''), ('compile', ' --compile')):
    f, log = out/f'recipe_{m}'/'metrics.json', out/f'train_{m}.txt'
    if not f.exists(): continue
    r = json.loads(f.read_text())
    whole = [l.split(': ')[1].split(' s ')[0] for l in log.read_text().splitlines() if 'whole command' in l] if log.exists() else []
    ratio = f"{b[m]['ratio']:.3f}" if m in b else '-'
    print(f"| `s8_train{flag}` | {r['train_seconds']:.1f} | {whole[-1] if whole else '-'} | {ratio} | "
          f"{100*r['test_accuracy']:.2f}% ({100*r['test_accuracy_flip']:.2f}%) |")
PY
exit 0
