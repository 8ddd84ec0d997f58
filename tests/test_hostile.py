"""A run folder is untrusted input (issue 23): links and FIFOs in it, hand-edited `run.json`/`metrics.json`, a run
killed between its files, other data given to `--resume`, non-finite results, a user's files beside a run, and odd
file names. Each case: at most one line on stderr and exit status 1 where the input is bad, nothing written or read
outside the run folder, no hang, no non-finite number written, and no file lost that the run did not write."""
import json, os, pickle, shutil, subprocess
import numpy as np, pytest, torch
from PIL import Image
from s8_fastai.data import make_image_folder, make_pickle_batches
from s8_fastai.runfolder import RunLock, read_metrics
from helpers import BIN, FAST, cli, one_line_error

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp('data'), n_train=16, n_test=4, classes=('a', 'b', 'c'))

@pytest.fixture(scope='module')
def run(data, tmp_path_factory):
    "A finished two-epoch run on `data`, without its report"
    out = tmp_path_factory.mktemp('runs')/'run'
    rc, _, err = cli('s8_train', '--data', data, *FAST, '--no-report', '--out', out)
    assert rc == 0, err
    return out

def copy_run(run, tmp_path, name='run'):
    shutil.copytree(run, tmp_path/name)
    return tmp_path/name

def unfinished(run, tmp_path, name='cut'):
    "The run as a SIGKILL between `model.pth` and `metrics.json` leaves it"
    r = copy_run(run, tmp_path, name); (r/'metrics.json').unlink()
    return r

def edit_json(f, **change):
    d = json.loads(f.read_text())
    for k, v in change.items():
        if '.' in k: a, b = k.split('.'); d[a][b] = v
        else: d[k] = v
    f.write_text(json.dumps(d))

# 1. run-folder files are regular files inside the folder: never followed, never waited on

def test_report_replaces_links_and_refuses_to_read_them(run, tmp_path):
    r = copy_run(run, tmp_path); outside = tmp_path/'outside.png'; outside.write_text('keep')
    (r/'curves.png').symlink_to(outside); (r/'confusion_matrix.png').symlink_to(tmp_path/'created_elsewhere.png')
    rc, out, err = cli('s8_report', r)
    assert rc == 0, err
    assert outside.read_text() == 'keep' and not (tmp_path/'created_elsewhere.png').exists()
    assert not (r/'curves.png').is_symlink() and (r/'curves.png').stat().st_size > 1000
    before = (r/'report.html').read_bytes()
    (tmp_path/'secret.txt').write_text('SECRET'); (r/'lr_find.png').symlink_to(tmp_path/'secret.txt')
    one_line_error(cli('s8_report', r), 's8_report', 'lr_find.png: is a link')
    assert (r/'report.html').read_bytes() == before   # not rewritten, and the secret is not in it

@pytest.mark.parametrize('prog,name', [('s8_report', 'metrics.json'), ('s8_report', 'lr_find.png'), ('s8_predict', 'model.pth'),
                                       ('s8_predict', 'run.json'), ('s8_train', 'checkpoint.pth'), ('s8_report', '.lock')])
def test_a_fifo_never_blocks(run, data, tmp_path, prog, name):
    r = copy_run(run, tmp_path)
    if prog == 's8_train': (r/'metrics.json').unlink()
    (r/name).unlink(missing_ok=True); os.mkfifo(r/name)
    args = {'s8_report': (r,), 's8_predict': (r, data/'test'/'a'), 's8_train': ('--resume', r)}[prog]
    one_line_error(cli(prog, *args, timeout=120), prog, name)

def test_a_lock_link_is_not_followed(run, tmp_path):
    r = unfinished(run, tmp_path); (r/'.lock').unlink(missing_ok=True)
    (r/'.lock').symlink_to(tmp_path/'planted')
    one_line_error(cli('s8_train', '--resume', r), 's8_train', 'not a lock file')
    assert not (tmp_path/'planted').exists()

# 2. non-finite results are refused; files stay strict

def test_non_finite_training_writes_no_results(data, tmp_path):
    out = tmp_path/'nan'
    one_line_error(cli('s8_train', '--data', data, *FAST, '--opt', 'adamw', '--wd', 1e6, '--out', out), 's8_train', 'became nan')
    assert not (out/'model.pth').exists() and not (out/'metrics.json').exists()
    for line in (out/'history.csv').read_text().splitlines() if (out/'history.csv').exists() else []: assert 'nan' not in line and 'inf' not in line

def test_non_finite_finder_is_one_line(data, tmp_path):
    one_line_error(cli('s8_train', '--data', data, '--epochs', 1, '--bs', 16, '--finder-its', 10, '--wd', 1e12, '--quiet', '--out', tmp_path/'f'),
                   's8_train', "the LR finder's loss was not finite")
    assert not (tmp_path/'f').exists()

def test_predict_refuses_non_finite_weights_and_scale(run, data, tmp_path):
    r = copy_run(run, tmp_path)
    sd = torch.load(r/'model.pth', weights_only=True); sd['fc.weight'][0, 0] = float('nan'); torch.save(sd, r/'model.pth')
    one_line_error(cli('s8_predict', r, data/'test'/'a'), 's8_predict', 'non-finite weights (fc.weight)')
    r2 = copy_run(run, tmp_path, 'r2')
    for v, msg in [(float('nan'), 'NaN is not a number'), (-1, 'logit_scale must be a finite number > 0')]:
        text = (r2/'run.json').read_text(); d = json.loads(text); d['recipe']['logit_scale'] = v
        (r2/'run.json').write_text(json.dumps(d))
        one_line_error(cli('s8_predict', r2, data/'test'/'a'), 's8_predict', msg)

# 3. --resume keeps its word

def test_resume_refuses_other_data_and_given_options(run, data, tmp_path):
    r = unfinished(run, tmp_path)
    half = make_image_folder(tmp_path/'half', n_train=8, n_test=4, classes=('a', 'b', 'c'))
    one_line_error(cli('s8_train', '--resume', r, '--data', half), 's8_train', 'not the data this run trained on (24 training and 12 test images')
    one_line_error(cli('s8_train', '--resume', r, '--epochs', 24, '--bs', 512, '--seed', 42), 's8_train',
                   "drop --epochs, --bs (the run's own: epochs 2, bs 16)")
    one_line_error(cli('s8_train', '--resume', r, '--overwrite'), 's8_train', 'give one of them')
    assert not (r/'metrics.json').exists()
    shutil.copytree(data, tmp_path/'moved')   # the same data in a new place, and options given with the run's own values
    rc, _, err = cli('s8_train', '--resume', r, '--data', tmp_path/'moved', '--epochs', 2, '--bs', 16, '--quiet', '--no-report')
    assert rc == 0, err
    assert json.loads((r/'run.json').read_text())['data'] == str((tmp_path/'moved').resolve())

def test_resume_checks_the_batch_size(run, tmp_path):
    r = unfinished(run, tmp_path)
    d = json.loads((r/'run.json').read_text()); d.pop('fingerprint'); (r/'run.json').write_text(json.dumps(d))  # a run from before fingerprints
    small = make_image_folder(tmp_path/'small', n_train=3, n_test=1, classes=('a', 'b', 'c'))
    one_line_error(cli('s8_train', '--resume', r, '--data', small), 's8_train', 'batch size 16 is larger than the 9 training images')
    assert not (r/'metrics.json').exists()

# 4. one notion of finished and busy

def test_readers_refuse_a_busy_folder_whatever_files_it_has(run, data, tmp_path):
    r = copy_run(run, tmp_path)
    with RunLock(r):
        for prog, *args in (('s8_report', r), ('s8_predict', r, data/'test'/'a')): one_line_error(cli(prog, *args), prog, f'{r}: busy: another s8_train is writing')
        one_line_error(cli('s8_train', '--data', data, *FAST, '--out', r, '--overwrite'), 's8_train', f'{r}: busy: another s8_train is writing this run folder')
    assert (r/'model.pth').exists() and not (r/'report.html').exists()

def test_killed_between_model_and_metrics_is_resumable(run, data, tmp_path):
    r = unfinished(run, tmp_path)
    one_line_error(cli('s8_report', r), 's8_report', f'the run has not finished (no metrics.json); continue it with s8_train --resume {r}')
    assert not (r/'metrics.json').exists()
    rc, _, err = cli('s8_train', '--resume', r, '--quiet', '--no-report')
    assert rc == 0, err
    m = read_metrics(r)
    assert m['epochs'] == 2 and len(m['history']) == 2 and m == {**json.loads((run/'metrics.json').read_text()), **{k: m[k] for k in m if k.endswith('seconds')}}

def test_a_dead_runs_partial_files_are_replaced_by_overwrite(data, tmp_path):
    r = tmp_path/'dead'; r.mkdir(); (r/'.lock').touch(); (r/'lr_find.csv').write_text('lr,smoothed_loss\n')  # killed in the LR finder
    one_line_error(cli('s8_train', '--data', data, *FAST, '--out', r), 's8_train', 'never started training (no run.json); pass --overwrite')
    one_line_error(cli('s8_train', '--resume', r), 's8_train', 'not a run folder (no run.json)')
    rc, _, err = cli('s8_train', '--data', data, *FAST, '--no-report', '--out', r, '--overwrite')
    assert rc == 0, err

# 5. --overwrite replaces the run's own files only

def test_overwrite_keeps_what_is_not_the_runs(run, data, tmp_path):
    r = copy_run(run, tmp_path)
    (r/'mine').mkdir(); (r/'mine'/'notes.txt').write_text('mine'); (r/'cifar.pkl').write_bytes(b'export')
    rc, _, err = cli('s8_train', '--data', data, *FAST, '--no-report', '--out', r, '--overwrite')
    assert rc == 0, err
    assert (r/'mine'/'notes.txt').read_text() == 'mine' and (r/'cifar.pkl').read_bytes() == b'export'
    (r/'model.pth').unlink(); (r/'model.pth').mkdir()   # a folder where the run writes a file: refused, naming it
    one_line_error(cli('s8_train', '--data', data, *FAST, '--out', r, '--overwrite'), 's8_train', 'model.pth: a folder where the run writes a file')

# 6. data that is accepted but wrong

def test_data_refused_before_training(tmp_path):
    p = make_pickle_batches(tmp_path/'dup'/'cifar-10-batches-py', n=8)
    pickle.dump({b'label_names': [b'cat', b'dog'] + [b'c%d' % i for i in range(7)] + [b'cat']}, open(p/'batches.meta', 'wb'))
    one_line_error(cli('s8_train', '--data', p, *FAST, '--out', tmp_path/'r1'), 's8_train', 'class names given twice: cat')
    p = make_pickle_batches(tmp_path/'empty'/'cifar-10-batches-py', n=8)
    pickle.dump({b'data': np.zeros((0, 3072), np.uint8), b'labels': []}, open(p/'test_batch', 'wb'))
    one_line_error(cli('s8_train', '--data', p, *FAST, '--out', tmp_path/'r2'), 's8_train', 'no test images')
    assert not (tmp_path/'r1').exists() and not (tmp_path/'r2').exists()

def test_an_empty_class_folder_is_named(tmp_path):
    d = make_image_folder(tmp_path/'d', n_train=8, n_test=2, classes=('a', 'b'))
    (d/'train'/'c').mkdir(); (d/'test'/'c').mkdir()
    rc, _, err = cli('s8_train', '--data', d, *FAST, '--no-report', '--out', tmp_path/'r')
    assert rc == 0 and 'class folder(s) c hold no images' in err, err

# 7. hand-edited run.json / metrics.json: one line naming the field, nothing rewritten

@pytest.mark.parametrize('history,msg', [([{'epoch': 0}], 'history[0]: no train_loss'), ('abc', 'history: must be a list of rows, got str')])
def test_report_refuses_a_bad_history_before_writing(run, tmp_path, history, msg):
    r = copy_run(run, tmp_path); edit_json(r/'metrics.json', history=history)
    before = (r/'metrics.json').read_bytes()
    one_line_error(cli('s8_report', r), 's8_report', msg)
    assert (r/'metrics.json').read_bytes() == before and not (r/'report.html').exists()

@pytest.mark.parametrize('field,value,msg', [('recipe.pad', 100, 'pad must be in [0, 16]'), ('recipe.cutout', -5, 'cutout must be in [0, 32]'),
                                             ('subset', 0, 'bad subset'), ('recipe.epochs', True, 'epochs must be int')])
def test_resume_refuses_a_bad_run_json_before_writing(run, tmp_path, field, value, msg):
    r = unfinished(run, tmp_path); edit_json(r/'run.json', **{field: value})
    before = {f: (r/f).read_bytes() for f in ('run.json', 'history.csv')}
    one_line_error(cli('s8_train', '--resume', r), 's8_train', msg)
    assert {f: (r/f).read_bytes() for f in before} == before

# 8. small ones

def test_predict_escapes_names_and_fails_on_a_closed_stdout(run, data, tmp_path):
    d = tmp_path/'imgs'; d.mkdir()
    for name in ('new\nline.png', 'tab\there.png', 'back\\slash.png'): shutil.copy(data/'test'/'a'/'0000.png', d/name)
    rc, out, err = cli('s8_predict', run, d)
    assert rc == 0, err
    rows = [l.split('\t') for l in out.splitlines()]
    assert len(rows) == 3 and all(len(r) == 3 for r in rows)
    assert {r[0].rsplit('/', 1)[1] for r in rows} == {'new\\nline.png', 'tab\\there.png', 'back\\\\slash.png'}
    r = subprocess.run(f"'{BIN/'s8_predict'}' '{run}' '{data/'test'/'a'}' >&-", shell=True, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and 'standard output is closed' in r.stderr, (r.returncode, r.stderr)

def test_bench_checks_its_json_first_and_leaves_no_temp_folder(data, tmp_path):
    one_line_error(cli('s8_bench', '--data', data, '--json', tmp_path/'missing'/'x.json', timeout=60), 's8_bench', f"no folder {tmp_path/'missing'}")
    t = tmp_path/'t'; t.mkdir()
    r = subprocess.run([str(x) for x in (BIN/'s8_bench', '--data', data, '--steps', 2, '--bs', 8, '--json', tmp_path/'b.json')], capture_output=True, text=True,
                       env={**os.environ, 'TMPDIR': str(t)}, timeout=300)
    assert r.returncode == 0, r.stderr
    assert list(t.iterdir()) == [] and json.loads((tmp_path/'b.json').read_text())['steps'] == 2
