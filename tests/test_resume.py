"Interrupt a real run (SIGKILL, then Ctrl-C), resume it each time, and check its history and LR schedule (real CIFAR-10 images)."
import signal, subprocess, sys, time
from pathlib import Path
from fastai.callback.schedule import combined_cos
from s8_fastai.core import Recipe
from s8_fastai.train import read_history, load_checkpoint

BIN = Path(sys.executable).parent

def start_and_stop(args, ck, after_epoch, sig):
    "Start `s8_train args`, send `sig` once the checkpoint of `after_epoch` exists; return the process"
    p = subprocess.Popen([BIN/'s8_train', *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not (ck.exists() and load_checkpoint(ck)['epoch'] >= after_epoch):
        assert p.poll() is None, p.stderr.read()
        assert time.time() - t0 < 300, 'no checkpoint after 300 s'
        time.sleep(0.2)
    p.send_signal(sig); p.wait(timeout=120)
    return p

def test_kill_interrupt_resume(real_small, tmp_path):
    out, epochs, bs, n = tmp_path/'run', 3, 128, 1000
    ck, flags = out/'checkpoint.pth', ['--quiet', '--no-report']
    args = ['--data', real_small, '--subset', n, '--epochs', epochs, '--bs', bs, '--lr-min', 0.01, '--lr-max', 0.2, '--out', out]
    start_and_stop(args + flags, ck, 0, signal.SIGKILL)                    # killed hard after its first epoch
    assert load_checkpoint(ck)['epoch'] in (0, 1) and not (out/'metrics.json').exists()
    p = start_and_stop(['--resume', out] + flags, ck, 1, signal.SIGINT)    # resumed, then Ctrl-C
    err = p.stderr.read()
    assert p.returncode == 1
    assert f'saved in {out}. Continue with: s8_train --resume {out}' in err, err
    r = subprocess.run([BIN/'s8_train', '--resume', out] + flags, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    h = read_history(out/'history.csv')
    assert [row['epoch'] for row in h] == list(range(epochs))
    # the LR at the last step of each epoch is the uninterrupted one-cycle schedule's
    n_iter = n//bs
    sched = combined_cos(Recipe().pct_start, 0.01, 0.2, 0.01)
    for row in h:
        pct = (n_iter*(row['epoch'] + 1) - 1)/(n_iter*epochs)
        assert abs(row['lr'] - float(sched(pct))) < 1e-6, (row, float(sched(pct)))
    assert (out/'metrics.json').exists() and (out/'model.pth').exists()
