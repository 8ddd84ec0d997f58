"""Side by side: the choices the recipe leaves open (optimizer, weight decay, label smoothing).

Each variant trains the custom ResNet from the same seed (same initial weights, batches and augmentations) on the
same stratified subset of the training images, with the recipe's one cycle shortened to `--epochs` (same shape:
peak at 5/24 of the steps, final LR = LRMIN, batch size 512), and is judged once, after its last epoch, on the
whole test set, without and with flip TTA. The SGD variants share LRMIN/LRMAX (by default the LR finder's values on
the full training set, `--lr-min`/`--lr-max`) unless a variant sets its own; the Adam variant runs the LR finder
itself, since its LR range is another one. A subset and a short cycle favour regularisation more than the full
recipe does: read the differences as directions to try on the full run, not as its result.

Usage, from the project's root:
    python tools/ablate.py DATA [--subset 8000] [--epochs 10] [--only NAME ...] [--out ablation.json]
"""
import argparse, json, time
from pathlib import Path
from s8_fastai.core import Recipe  # first: it silences fastai's import-time torch.jit warning
from fastai.callback.core import Callback, CancelValidException
from fastai.torch_core import set_seed
from s8_fastai.data import cifar10_source, stratified_subset, cifar10_dls
from s8_fastai.train import train_recipe, tta_accuracies

VARIANTS = {
    'sgd-wd5e-4': dict(),                               # the recipe's choice (DAWNBench)
    'sgd-wd5e-4-ls0.1': dict(label_smoothing=0.1),
    'sgd-wd2.5e-4': dict(wd=2.5e-4),
    'sgd-wd1e-3': dict(wd=1e-3),
    'adamw-wd0.05': dict(opt='adamw', wd=0.05),
    'sgd-wd5e-4-lrmax0.0417': dict(lr_min=0.00417, lr_max=0.0417),  # the LRs of fastai's `minimum` suggestion
    'sgd-wd5e-4-seed0': dict(seed=0),                   # the recipe again with another seed: the noise floor
}

class LastValidOnly(Callback):
    "Skip the test-set pass except after the last epoch (the comparison needs only the final figure)"
    def before_validate(self):
        if self.epoch < self.n_epoch - 1: raise CancelValidException

def run_variant(src, name, kw, epochs, lr_min, lr_max):
    "Train one variant with `train_recipe` (the LR finder runs when the variant leaves its LRs open) and score it once"
    lrs = {} if kw.get('opt', 'sgd') != 'sgd' else dict(lr_min=lr_min, lr_max=lr_max)
    cfg = Recipe(epochs=epochs, **{**lrs, **kw}).validate()
    set_seed(cfg.seed, reproducible=True)
    dls = cifar10_dls(src=src, bs=cfg.bs, cfg=cfg, device='cpu', seed=cfg.seed)
    t0 = time.perf_counter()
    learn = train_recipe(dls, cfg, cbs=LastValidOnly())
    train_loss, test_loss, test_acc = learn.recorder.values[-1]
    tta = tta_accuracies(learn, levels=('flip', 'flip_translate'))
    return dict(name=name, changes=kw, lr_min=learn.recipe.lr_min, lr_max=learn.recipe.lr_max, train_loss=train_loss,
                test_loss=test_loss, test_accuracy=float(test_acc), test_accuracy_flip=tta['flip'],
                test_accuracy_flip_translate=tta['flip_translate'], seconds=time.perf_counter() - t0)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('data'); p.add_argument('--subset', type=int, default=8000); p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--lr-min', type=float, default=0.00417); p.add_argument('--lr-max', type=float, default=0.417)
    p.add_argument('--only', nargs='*', choices=list(VARIANTS)); p.add_argument('--out', default='ablation.json')
    a = p.parse_args()
    src = stratified_subset(cifar10_source(a.data), a.subset, seed=Recipe.seed)
    out, rows = Path(a.out), []
    for name in a.only or VARIANTS:
        rows.append(run_variant(src, name, VARIANTS[name], a.epochs, a.lr_min, a.lr_max))
        r = rows[-1]
        print(f"{name}: test {r['test_accuracy']:.4f}, TTA flip {r['test_accuracy_flip']:.4f}, flip+translate {r['test_accuracy_flip_translate']:.4f}, "
              f"LR {r['lr_min']:.3g}-{r['lr_max']:.3g}, "
              f"{r['seconds']:.0f} s", flush=True)
        out.write_text(json.dumps(dict(subset=a.subset, epochs=a.epochs, results=rows), indent=1))

if __name__ == '__main__': main()
