"""A strict check that no training step makes the host wait for the GPU.

The library's Learner trains the recipe (with the moving average, so `EMA` is checked too) on the data for
`--epochs` epochs with its own per-epoch callbacks (`History`, `Checkpoint`); from the second epoch on, every
training phase runs under `torch.cuda.set_sync_debug_mode('error')`, so any operation in a training step that
waits for the GPU raises with its place in the traceback. (The first epoch moves the images to the GPU and lets
cuDNN tune its kernels.) Usage, from the project's root, on a CUDA machine:

    python tools/sync_check.py DATA [--epochs 2] [--subset 10000]
"""
import argparse, tempfile, time
from pathlib import Path
from s8_fastai.core import Recipe, seed_everything  # first: it silences fastai's import-time torch.jit warning
import torch
from fastai.callback.core import Callback
from s8_fastai.data import cifar10_dls
from s8_fastai.train import s8_learner, fit_recipe, History, Checkpoint

class Strict(Callback):
    "`set_sync_debug_mode('error')` over the training phases of the epochs after the first"
    order = -100
    def before_fit(self): self.checked = 0
    def before_train(self):
        if self.epoch >= 1: torch.cuda.set_sync_debug_mode('error')
    def after_batch(self):
        if self.training and self.epoch >= 1: self.checked += 1
    def after_train(self): torch.cuda.set_sync_debug_mode(0)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('data'); p.add_argument('--epochs', type=int, default=2); p.add_argument('--subset', type=int, default=None)
    p.add_argument('--device', default='cuda')
    a = p.parse_args()
    cfg = Recipe(epochs=a.epochs, lr_min=0.004, lr_max=0.4, ema=0.99)
    seed_everything(cfg.seed, a.device)
    dls = cifar10_dls(a.data, bs=cfg.bs, subset=a.subset, device=a.device)
    with tempfile.TemporaryDirectory() as tmp:
        learn = s8_learner(dls, cfg, path=tmp)
        strict = Strict()
        t0 = time.perf_counter()
        with learn.no_logging(): fit_recipe(learn, cbs=[strict, History(Path(tmp)/'h.csv'), Checkpoint(Path(tmp)/'ck.pth')])
    print(f"sync check: {strict.checked} training steps under set_sync_debug_mode('error') without a host sync "
          f"({a.epochs} epochs, {time.perf_counter() - t0:.1f} s, {torch.cuda.get_device_name() if torch.cuda.is_available() else a.device})")

if __name__ == '__main__': main()
