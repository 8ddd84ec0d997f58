"""The commands end to end on small synthetic image folders: these run anywhere, with no data set.

A short run is trained, reported and used to classify images; interrupted runs continue; and hostile input
(bad values, odd files, broken run folders, two runs on one folder) gets one line on stderr and exit status 1,
with nothing hung, lost or mixed."""
import json, os, pickle, shutil, signal, subprocess, sys
import numpy as np, pytest, torch
from PIL import Image
from s8_fastai.data import make_image_folder, make_pickle_batches
from s8_fastai.train import read_history, load_checkpoint, RunLock
from helpers import FAST, cli, start, one_line_error, wait_for_checkpoint

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "Three classes, 24 training and 8 test images each"
    return make_image_folder(tmp_path_factory.mktemp('data'), n_train=24, n_test=8, classes=('a', 'b', 'c'))

@pytest.fixture(scope='module')
def run(data, tmp_path_factory):
    "A finished two-epoch run on `data`, with its report"
    out = tmp_path_factory.mktemp('runs')/'run'
    rc, _, err = cli('s8_train', '--data', data, *FAST, '--out', out)
    assert rc == 0, err
    return out

def copy_run(run, tmp_path):
    shutil.copytree(run, tmp_path/'run')
    return tmp_path/'run'

def test_train_report_predict(run, data):
    for f in ('run.json', 'history.csv', 'checkpoint.pth', 'model.pth', 'metrics.json', 'report.html', 'gradcam.npz'):
        assert (run/f).exists(), f
    m = json.loads((run/'metrics.json').read_text())
    assert m['test_accuracy'] == read_history(run/'history.csv')[-1]['test_accuracy']
    assert m['n_train'] == 72 and m['n_test'] == 24 and set(m['class_accuracy']) == {'a', 'b', 'c'}
    rc, out, err = cli('s8_report', run)
    assert rc == 0 and out == f"{run/'report.html'}\n", (out, err)   # the path alone on stdout; progress on stderr
    rc, out, err = cli('s8_predict', run, data/'test')
    assert rc == 0, err
    rows = [l.split('\t') for l in out.splitlines()]
    assert len(rows) == 24 and all(c in ('a', 'b', 'c') and 0 < float(p) <= 1 for _, c, p in rows)
    assert rows[0][0] == str(data/'test'/'a'/'0000.png')

def test_a_closed_pipe_ends_quietly(run, data):
    "s8_predict into a reader that has gone (`s8_predict RUN DIR | head -0`): no error line, no traceback"
    p = start('s8_predict', run, data/'test')
    p.stdout.close()  # before the first line: its first write finds the pipe closed
    err = p.stderr.read(); p.wait(timeout=120)
    assert p.returncode == 1 and err == '', (p.returncode, err)

def test_kill_and_interrupt_then_resume_is_the_same_run(data, tmp_path):
    "SIGKILL after epoch 1, then Ctrl-C in the resumed run: resumed twice, it ends exactly like an uninterrupted run"
    args = ['--data', data, '--epochs', 6, '--bs', 8, '--lr-min', 0.01, '--lr-max', 0.1, '--quiet', '--no-report']
    assert cli('s8_train', *args, '--out', tmp_path/'whole')[0] == 0
    out, ck = tmp_path/'cut', tmp_path/'cut'/'checkpoint.pth'
    p = start('s8_train', *args, '--out', out)
    wait_for_checkpoint(p, ck, 0); p.kill(); p.wait()
    assert not (out/'metrics.json').exists()
    p = start('s8_train', '--resume', out, '--quiet', '--no-report')
    wait_for_checkpoint(p, ck, 2); p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    done = load_checkpoint(ck)['epoch'] + 1
    assert p.returncode == 1 and err.strip().splitlines()[-1] == f"s8_train: interrupted; {done} finished epoch(s) saved in {out}. Continue with: s8_train --resume {out}"
    rc, _, err = cli('s8_train', '--resume', out, '--quiet', '--no-report')
    assert rc == 0, err
    whole, cut = (read_history(d/'history.csv') for d in (tmp_path/'whole', out))
    drop = lambda h: [{k: v for k, v in r.items() if not k.endswith('seconds')} for r in h]
    assert drop(cut) == drop(whole)
    assert torch.equal(*(torch.load(d/'model.pth', weights_only=True)['fc.weight'] for d in (tmp_path/'whole', out)))

def test_interrupt_in_the_first_epoch_can_resume(tmp_path):
    "Ctrl-C (here SIGTERM, as a shutdown sends) before any epoch finished: the message's next step works"
    data = make_image_folder(tmp_path/'d', n_train=200, n_test=4, classes=('a', 'b'))
    out = tmp_path/'run'
    p = start('s8_train', '--data', data, '--epochs', 1, '--bs', 4, '--lr-min', 0.01, '--lr-max', 0.1, '--quiet', '--no-report', '--out', out)
    wait_for_checkpoint(p, out/'checkpoint.pth', -1); p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert err.strip().splitlines()[-1] == f"s8_train: interrupted; 0 finished epoch(s) saved in {out}. Continue with: s8_train --resume {out}"
    rc, _, err = cli('s8_train', '--resume', out, '--quiet', '--no-report')
    assert rc == 0 and [r['epoch'] for r in read_history(out/'history.csv')] == [0], err

def test_an_interrupt_without_a_message_says_so(tmp_path):
    "Ctrl-C where no step has a next step to name (s8_bench, s8_report): one line that says it was interrupted"
    script = tmp_path/'demo.py'
    script.write_text("from fastcore.script import call_parse\nfrom s8_fastai.cli import one_line_errors\n"
                      "@call_parse\ndef demo():\n    with one_line_errors(demo): raise KeyboardInterrupt\ndemo()\n")
    r = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stderr) == (1, "demo: interrupted\n"), r.stderr

def test_two_runs_on_one_folder(data, tmp_path):
    "Started together on one --out: one trains, the other is refused; the folder holds one run"
    out = tmp_path/'run'
    ps = [start('s8_train', '--data', data, *FAST, '--no-report', '--out', out) for _ in range(2)]
    res = [(p.wait(timeout=300), *p.communicate()) for p in ps]
    assert sorted(r[0] for r in res) == [0, 1], res
    refused = next(r for r in res if r[0] == 1)
    assert 'another s8_train is writing this run folder' in one_line_error(refused, 's8_train', '')
    assert [r['epoch'] for r in read_history(out/'history.csv')] == [0, 1]

def test_values_that_cannot_train_are_refused_before_any_work(data, tmp_path):
    out = tmp_path/'run'
    for args, msg in [(('--bs', 100), 'batch size 100 is larger than the 72 training images'),
                      (('--subset', 2), 'subset must be between 3 (one image per class) and 72'),
                      (('--subset', 0), 'subset must be between 3'),
                      (('--lr-max', 'inf'), 'lr_max must be a finite number > 0, got inf'),
                      (('--lr-min', 'nan'), 'lr_min must be a finite number > 0, got nan'),
                      (('--wd', 'nan'), 'wd must be a finite number >= 0, got nan'),
                      (('--label-smoothing', 'nan'), 'label_smoothing must be in [0, 1)'),
                      (('--ema', '1'), 'ema must be in [0, 1)'),
                      (('--preset', 'fast'), "unknown preset 'fast'")]:
        one_line_error(cli('s8_train', '--data', data, '--epochs', 1, *args, '--out', out), 's8_train', msg)
        assert not out.exists(), args   # an early failure leaves no folder behind
    one_line_error(cli('s8_train', '--data', tmp_path/'nope', '--out', out), 's8_train', 'no such file or folder')
    assert not out.exists()
    one_line_error(cli('s8_bench', '--data', data, '--bs', 100, '--steps', 1), 's8_bench', 'batch size 100 is larger than the 72 training images')

def test_files_that_are_not_images(data, run, tmp_path):
    "A FIFO named .jpg never hangs a command; PostScript named .jpg is not decoded; a link to a folder is not followed"
    d = tmp_path/'d'; shutil.copytree(data, d)
    os.mkfifo(d/'train'/'a'/'pipe.jpg')
    os.symlink(d/'train'/'b', d/'train'/'a'/'b_too')   # would count b's images again, as a
    rc, _, err = cli('s8_train', '--data', d, *FAST, '--no-report', '--out', tmp_path/'run', timeout=120)
    assert rc == 0 and 'warning: ' in err and 'pipe.jpg' in err and 'b_too' in err, err
    assert json.loads((tmp_path/'run'/'metrics.json').read_text())['n_train'] == 72
    (tmp_path/'ps.jpg').write_bytes(b'%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\n0 0 moveto\n')
    os.mkfifo(tmp_path/'pipe2.jpg')
    rc, out, err = cli('s8_predict', run, tmp_path/'ps.jpg', tmp_path/'pipe2.jpg', data/'test'/'a'/'0000.png', timeout=120)
    errs = err.strip().splitlines()
    assert rc == 1 and len(out.splitlines()) == 1, (out, err)
    assert 'ps.jpg: cannot read image' in errs[0] and 'pipe2.jpg: not a regular file' in errs[1]
    assert errs[-1] == 's8_predict: error: 2 of 3 file(s) could not be classified'
    one_line_error(cli('s8_predict', run, tmp_path/'ps.jpg', data/'test'/'a'/'0000.png'), 's8_predict',
                   'ps.jpg: cannot read image')   # one bad file: one line
    (tmp_path/'empty').mkdir()
    one_line_error(cli('s8_predict', run, tmp_path/'empty'), 's8_predict', 'no images in')

def test_image_modes(run, tmp_path):
    "A 16-bit image is scaled, not clipped: it is classified as its 8-bit twin; RGBA, grayscale and other sizes are taken"
    rng = np.random.default_rng(0)
    a8 = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    Image.fromarray(a8).save(tmp_path/'gray8.png')
    Image.fromarray(a8.astype(np.uint16)*257).save(tmp_path/'gray16.png')
    Image.fromarray(rng.integers(0, 256, (32, 32, 4), dtype=np.uint8)).save(tmp_path/'rgba.png')
    Image.fromarray(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8)).save(tmp_path/'big.jpg')
    rc, out, err = cli('s8_predict', run, tmp_path)
    assert rc == 0, err
    rows = {l.split('\t')[0].rsplit('/', 1)[1]: l.split('\t')[1:] for l in out.splitlines()}
    assert rows['gray8.png'] == rows['gray16.png'] and set(rows) == {'gray8.png', 'gray16.png', 'rgba.png', 'big.jpg'}

def test_overwrite_clears_the_old_results(run, tmp_path):
    "--overwrite with a run that then fails (NaN) leaves none of the old run's results to be reported as the new one's"
    old = copy_run(run, tmp_path)
    rc, _, err = cli('s8_train', '--data', json.loads((old/'run.json').read_text())['data'], '--epochs', 2, '--bs', 16,
                     '--lr-min', 0.01, '--lr-max', 1e10, '--quiet', '--out', old, '--overwrite')
    assert 'training loss became nan in epoch 1; try a lower --lr-max, and --overwrite to start' in one_line_error((rc, '', err), 's8_train', '')
    assert not any((old/f).exists() for f in ('model.pth', 'report.html', 'metrics.json', 'gradcam.npz'))
    one_line_error(cli('s8_report', old), 's8_report', 'the run has not finished')
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'thesis.tex').touch()
    one_line_error(cli('s8_train', '--data', tmp_path, '--out', tmp_path/'mine', '--overwrite'), 's8_train', 'not a run folder (no run.json); --overwrite would not touch it')
    assert (tmp_path/'mine'/'thesis.tex').exists()

def test_broken_run_folders(run, tmp_path):
    "Damaged checkpoints and run.json files, finished runs and settings given to --resume: one line each"
    r = copy_run(run, tmp_path)
    one_line_error(cli('s8_train', '--resume', r), 's8_train', f'{r}: this run is finished (2 of 2 epochs); s8_report {r} rebuilds its report')
    one_line_error(cli('s8_train', '--resume', r, '--epochs', 5, '--lr-max', 0.2), 's8_train', '--resume continues a run with its own settings; drop --epochs, --lr-max')
    (r/'metrics.json').unlink()
    ck = torch.load(r/'checkpoint.pth', weights_only=True)
    torch.save({**ck, 'epoch': 'one'}, r/'checkpoint.pth')
    one_line_error(cli('s8_train', '--resume', r), 's8_train', 'checkpoint.pth: damaged checkpoint (bad epoch)')
    torch.save({**ck, 'rng': {'torch': 0}}, r/'checkpoint.pth')
    one_line_error(cli('s8_train', '--resume', r), 's8_train', 'checkpoint.pth: damaged checkpoint')
    (r/'checkpoint.pth').unlink()
    one_line_error(cli('s8_train', '--resume', r), 's8_train', 'nothing to continue (no checkpoint.pth); start the run again with --overwrite')
    for text, msg in [('[1, 2]', 'run.json: not an s8_fastai run.json'), ('{"recipe": {"epochs": "x"}}', "run.json: bad recipe (epochs must be int, got 'x')"),
                      ('{"recipe": {}, "data": 3, "device": "cpu", "precision": "bf16"}', 'run.json: bad data'), ('{', 'run.json: not readable')]:
        (r/'run.json').write_text(text)
        one_line_error(cli('s8_report', r), 's8_report', msg)
        one_line_error(cli('s8_predict', r, r), 's8_predict', msg)

def test_readers_of_a_run_still_training(run, tmp_path):
    "s8_report and s8_predict on a folder that s8_train is writing (its lock held, no model yet) say to wait, not to resume"
    r = copy_run(run, tmp_path); (r/'model.pth').unlink(); (r/'metrics.json').unlink()
    lock = RunLock(r)   # as a running s8_train holds it
    for prog, *args in (('s8_report', r), ('s8_predict', r, r/'curves.png')):
        one_line_error(cli(prog, *args), prog, f'{r}: busy: another s8_train is writing this run folder')
    lock.release()
    one_line_error(cli('s8_report', r), 's8_report', f'the run has not finished (no metrics.json); continue it with s8_train --resume {r}')

def test_pickle_batches(tmp_path):
    "The cifar-10-batches-py release trains; malformed batch files get one line"
    p = make_pickle_batches(tmp_path/'cifar-10-batches-py', n=8)
    assert cli('s8_train', '--data', tmp_path, '--epochs', 1, '--bs', 8, '--lr-min', 0.01, '--lr-max', 0.1, '--quiet', '--no-report', '--out', tmp_path/'run')[0] == 0
    for bad, msg in [({b'data': np.zeros((8, 3072), np.uint8), b'labels': [0]*7 + [10]}, 'data_batch_2: labels must be in 0..9, found 0..10'),
                     ([1, 2, 3], 'data_batch_2: not a CIFAR-10 batch file (holds a list, not a dict)'),
                     ({b'labels': [0]*8}, 'data_batch_2: not a CIFAR-10 batch file (no data)')]:
        with open(p/'data_batch_2', 'wb') as f: pickle.dump(bad, f)
        one_line_error(cli('s8_train', '--data', p, '--out', tmp_path/'r2'), 's8_train', msg)

def test_class_names_are_text(tmp_path):
    "Class names with $ signs (matplotlib math) still make a report"
    d = make_image_folder(tmp_path/'d', n_train=8, n_test=4, classes=('$x^', 'a$b$c'))
    rc, _, err = cli('s8_train', '--data', d, '--epochs', 1, '--bs', 4, '--lr-min', 0.01, '--lr-max', 0.1, '--quiet', '--out', tmp_path/'run')
    assert rc == 0 and (tmp_path/'run'/'report.html').exists(), err
