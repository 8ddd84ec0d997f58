"""A saved run is a fastai vision Learner: `predict`, `test_dl` + `get_preds`, `show_results`, fastai's interpretation
plots, and `export` / `load_learner` in a fresh process with no data folder, on synthetic images (runs anywhere)."""
import pickle, shutil, subprocess, sys
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np, pytest, torch
from PIL import Image
from fastai.interpret import ClassificationInterpretation
from fastai.vision.core import PILImage
from s8_fastai.data import CifarImage, DataError, make_image_folder
from s8_fastai.train import load_run
from helpers import FAST, cli

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    d = make_image_folder(tmp_path_factory.mktemp('data'), n_train=24, n_test=8, classes=('a', 'b', 'c'))
    out = tmp_path_factory.mktemp('runs')/'run'
    rc, _, err = cli('s8_train', '--data', d, *FAST, '--no-report', '--out', out)
    assert rc == 0, err
    return out, d

def test_predict_and_test_dl(run):
    out, d = run
    learn = load_run(out)
    f = sorted((d/'test'/'b').iterdir())[0]
    cls, idx, probs = learn.predict(f)
    assert cls in learn.dls.vocab and probs.shape == (3,) and abs(float(probs.sum()) - 1) < 1e-4
    arr = np.asarray(Image.open(f).convert('RGB'))
    for item in (str(f), PILImage.create(f), arr, torch.from_numpy(arr).permute(2, 0, 1).contiguous()):
        assert learn.predict(item)[0] == cls
    files = sorted((d/'test').glob('*/*.png'))
    preds, _ = learn.get_preds(dl=learn.dls.test_dl(files))
    assert preds.shape == (24, 3)
    valid, targs = learn.get_preds()                      # the same images as the Learner's test set
    assert torch.allclose(preds, valid, atol=1e-4)
    with pytest.raises(DataError, match='expected a uint8 tensor of shape 3x32x32, got float32 3x32x32'): learn.predict(torch.rand(3, 32, 32))

def test_show_results_and_interpretation(run, tmp_path):
    learn = load_run(run[0])
    learn.show_results(max_n=4)
    plt.savefig(tmp_path/'results.png'); plt.close('all')
    interp = ClassificationInterpretation.from_learner(learn)
    interp.plot_top_losses(4); plt.savefig(tmp_path/'top.png'); plt.close('all')
    interp.plot_confusion_matrix(); plt.savefig(tmp_path/'cm.png'); plt.close('all')
    assert all((tmp_path/f).stat().st_size > 5000 for f in ('results.png', 'top.png', 'cm.png'))
    assert isinstance(interp.most_confused(), list)

def test_export_holds_no_images_and_loads_anywhere(run, tmp_path):
    out, d = run
    learn = load_run(out)
    f = tmp_path/'x.png'; shutil.copy(sorted((d/'test'/'c').iterdir())[0], f)
    expect = learn.predict(f)[0]
    learn.export(tmp_path/'export.pkl')
    size = (tmp_path/'export.pkl').stat().st_size
    weights = sum(v.numel()*v.element_size() for v in learn.model.state_dict().values())
    assert size < weights + 2_000_000, (size, weights)            # the weights and the transforms, nothing more
    tfm = next(t for t in learn.dls.valid_ds.tls[0].tfms.fs if isinstance(t, CifarImage))
    assert tfm.images is not None and pickle.loads(pickle.dumps(tfm)).images is None
    shutil.move(str(d), str(tmp_path/'moved'))                    # no data folder where the run was trained
    try:
        code = ("import warnings; warnings.simplefilter('ignore'); from fastai.learner import load_learner; "
                f"learn = load_learner({str(tmp_path/'export.pkl')!r})\nwith learn.no_bar(): print(learn.predict({str(f)!r})[0])")
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == expect, r.stdout
    finally: shutil.move(str(tmp_path/'moved'), str(d))
