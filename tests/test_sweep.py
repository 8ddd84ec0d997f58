"s8_sweep end to end on synthetic images: bad input refused before anything starts; a sweep killed midway and resumed ends with the summary its run folders give."
import csv, json, math, os, re, shutil, signal, statistics, subprocess, sys, time
from pathlib import Path
import pytest
from helpers import BIN, cli, one_line_error

pytest.importorskip('ray.tune', reason='the sweep extra (pip install -e ".[sweep]")')
from s8_fastai.data import make_image_folder
from s8_fastai.train import load_checkpoint, load_run, read_history, run_recipe
from s8_fastai.sweep import ACCURACIES, METRICS, s8_sweep, sweep_recipe

FAST = ('--epochs', 2, '--bs', 16, '--lr-min', 0.01, '--lr-max', 0.1, '--quiet')
SEEDS, VARIANTS, E = (0, 1), ('preset=recipe', 'preset=tricks'), 8  # E: epochs of the interrupted sweep's runs

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_image_folder(tmp_path_factory.mktemp('sweep')/'d', n_train=16, n_test=8, classes=('a', 'b', 'c'))

def test_bad_input(data, tmp_path):
    "Unknown keys, values that cannot train, another folder in --out, an unreachable cluster: one line, exit 1, nothing written"
    other = tmp_path/'other'; other.mkdir(); (other/'notes.txt').write_text('mine')
    ok = dict(data=str(data), seeds='0-1', epochs=2, bs=16, lr_min=0.01, lr_max=0.1, quiet=True)
    for kw, msg in [(dict(set=['preset=recipe,fast']), "preset=fast: unknown preset 'fast'"),
                    (dict(set=['wd=5e-4,-1']), 'wd=-1: wd must be a finite number >= 0'),
                    (dict(set=['preset=recipe,tricks'], bs=500), 'preset=recipe: batch size 500 is larger than the 48 training images'),
                    (dict(set=['subset=30,200']), 'subset=200: subset must be between 1 and 48'),
                    (dict(set=['epochs=2,x']), "'x' is not an integer"),
                    (dict(set=['bs=8,16']), '--bs is given and also swept with --set bs'),
                    (dict(seeds='3-1'), 'goes down'),
                    (dict(out=str(other)), 'not a sweep folder'),
                    (dict(out=str(data/'train'/'a'/'0000.png')), 'exists and is not a folder')]:
        with pytest.raises(ValueError, match=re.escape(msg)): s8_sweep(**{**ok, 'out': str(tmp_path/'new'), **kw})
        assert not (tmp_path/'new').exists(), kw
    assert sorted(p.name for p in other.iterdir()) == ['notes.txt']
    # from the command line: one line, exit status 1 (run side by side: each command takes seconds to import)
    cases = [(('--set', 'momentum=0.9,0.95'), "s8_sweep: error: --set: unknown key 'momentum'"),
             (('--address', '127.0.0.1:9'), 'no Ray cluster answers there')]
    procs = [subprocess.Popen([BIN/'s8_sweep', *map(str, ('--data', data, *FAST, '--out', tmp_path/f'new{i}') + args)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL) for i, (args, _) in enumerate(cases)]
    for i, ((args, msg), p) in enumerate(zip(cases, procs)):
        out, err = p.communicate(timeout=300)
        one_line_error((p.returncode, out, err), 's8_sweep', msg)
        assert not (tmp_path/f'new{i}').exists(), args

def _metrics(out):
    return {(v, s): json.loads((out/v/f'seed_{s}'/'metrics.json').read_text()) for v in VARIANTS for s in SEEDS}

def _stop_ray_of(out):
    "End what is left of the Ray that a killed s8_sweep started (its agents end by themselves within minutes)"
    f = out/'.tune'/'ray_tmp'
    if not f.is_file(): return
    tmp = f.read_text().strip()
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try: fds = [os.readlink(f'/proc/{pid}/fd/{fd}') for fd in os.listdir(f'/proc/{pid}/fd')]
        except OSError: continue
        if any(x.startswith(tmp + '/') for x in fds): os.kill(int(pid), signal.SIGKILL)
    shutil.rmtree(tmp, ignore_errors=True); f.unlink()

@pytest.mark.slow  # about 2-3 minutes on 2 shared cores: three launches of Ray
def test_sweep_killed_and_resumed(data, tmp_path):
    "SIGKILL after the first trial finished (another one midway), then SIGTERM, then to the end: run folders as if never interrupted"
    out = tmp_path/'sw'
    cmd = [BIN/'s8_sweep', '--data', data, '--seeds', '0-1', '--set', 'preset=recipe,tricks', '--epochs', E, '--bs', 16,
           '--lr-min', 0.01, '--lr-max', 0.1, '--no-report', '--out', out]
    runs = [out/v/f'seed_{s}' for v in VARIANTS for s in SEEDS]
    try: _sweep_killed_and_resumed(data, tmp_path, out, cmd, runs)
    finally: _stop_ray_of(out)  # also when a check fails between the kill and the next launch

def _sweep_killed_and_resumed(data, tmp_path, out, cmd, runs):
    p = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    t0, midway = time.time(), None
    while midway is None:  # a finished run, and another with a checkpoint after its first epoch
        assert p.poll() is None and time.time() - t0 < 300, 'the sweep ended before it could be killed midway'
        done = [r for r in runs if (r/'metrics.json').exists()]
        for r in runs:
            try:
                if done and r not in done and load_checkpoint(r/'checkpoint.pth')['epoch'] in (0, 1, 2): midway = r  # well before its end
            except Exception: pass
        time.sleep(0.05)
    p.kill(); p.wait()
    assert not (midway/'metrics.json').exists()
    finished = {r: (r/'metrics.json').stat().st_mtime_ns for r in runs if (r/'metrics.json').exists()}
    assert 0 < len(finished) < 4
    _stop_ray_of(out)
    spec = (out/'sweep.json').read_text()

    # the same command: SIGTERM once a trial runs
    p = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    for line in p.stderr:
        if 'running=1' in line: break
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1 and err.strip().splitlines()[-1].startswith('s8_sweep: interrupted; '), err

    # another sweep in the same folder is refused, nothing touched
    one_line_error(cli('s8_sweep', *map(str, cmd[1:]), '--wd', 1e-3), 's8_sweep', "holds another sweep (--wd 0.0005 there, 0.001 now)")

    # and again, to the end
    rc, stdout, err = cli(*map(str, cmd))
    assert rc == 0, err
    progress = [l for l in err.splitlines() if 'done=' in l]
    assert progress[-1].startswith('s8_sweep: done=4 running=0 pending=0 failed=0 / 4') and '=-' not in err, err
    assert (out/'sweep.json').read_text() == spec
    for r, t in finished.items(): assert (r/'metrics.json').stat().st_mtime_ns == t, f'{r} ran again'
    for r in runs: assert [h['epoch'] for h in read_history(r/'history.csv')] == list(range(E))
    # the run interrupted midway ends as an uninterrupted run would (bitwise on the CPU, with the trials' one thread)
    v, s = midway.parent.name, int(midway.name.split('_')[1])
    import torch; threads = torch.get_num_threads(); torch.set_num_threads(1)
    try: ref = run_recipe(data, tmp_path/'ref', sweep_recipe({'preset': v.split('=')[1], 'epochs': E, 'bs': 16, 'lr_min': 0.01, 'lr_max': 0.1}, s), quiet=True)
    finally: torch.set_num_threads(threads)
    got = json.loads((midway/'metrics.json').read_text())
    for k in ACCURACIES + ('train_loss', 'test_loss'): assert got[k] == ref.run_metrics[k], (k, got[k], ref.run_metrics[k])

    # summary.csv is what the run folders' metrics.json give
    m = _metrics(out)
    rows = {r['variant']: r for r in csv.DictReader(open(out/'summary.csv'))}
    assert list(rows) == list(VARIANTS)
    for v in VARIANTS:
        r = rows[v]
        assert int(r['n']) == 2 and r['seeds'] == '0 1'
        for k in METRICS:
            xs = [m[v, s][k] for s in SEEDS]
            for stat, x in (('mean', statistics.fmean(xs)), ('std', statistics.stdev(xs)), ('min', min(xs)), ('max', max(xs))):
                assert math.isclose(float(r[f'{k}_{stat}']), x, rel_tol=1e-12, abs_tol=1e-15), (v, k, stat)
    r = rows['preset=tricks']
    assert r['vs'] == 'preset=recipe' and int(r['paired_n']) == 2
    for k in ACCURACIES:
        d = [m['preset=tricks', s][k] - m['preset=recipe', s][k] for s in SEEDS]
        assert math.isclose(float(r[f'{k}_diff']), statistics.fmean(d), abs_tol=1e-12)
        assert math.isclose(float(r[f'{k}_diff_se']), statistics.stdev(d)/math.sqrt(2), abs_tol=1e-12)
    per_run = list(csv.DictReader(open(out/'runs.csv')))
    assert [(x['variant'], int(x['seed'])) for x in per_run] == [(v, s) for v in VARIANTS for s in SEEDS]
    assert all(float(x['test_accuracy']) == m[x['variant'], int(x['seed'])]['test_accuracy'] for x in per_run)
    assert (out/'summary.png').stat().st_size > 0 and 'preset=tricks' in stdout
    # each run folder is an ordinary one
    for r in runs: assert json.loads((r/'run.json').read_text())['recipe'] == {**sweep_recipe({'preset': r.parent.name.split('=')[1], 'epochs': E, 'bs': 16, 'lr_min': 0.01, 'lr_max': 0.1}, int(r.name[5:])).to_dict()}
    for r in runs: assert load_run(r, data=False).run_dir == r
    # finished: the same command again only summarizes
    rc, stdout2, err = cli(*map(str, cmd))
    assert rc == 0 and stdout2 == stdout, err
