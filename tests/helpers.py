"Shared helpers of the command-line tests: run a command, check a one-line error, wait for a checkpoint."
import subprocess, sys, time
from pathlib import Path
from s8_fastai.train import load_checkpoint

BIN = Path(sys.executable).parent
FAST = ('--epochs', 2, '--bs', 16, '--lr-min', 0.01, '--lr-max', 0.1, '--quiet')  # a short run without the LR finder

def cli(prog, *args, timeout=300):
    "Run the command `prog` with `args`; return (exit status, stdout, stderr)"
    r = subprocess.run([BIN/prog, *map(str, args)], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr

def start(prog, *args):
    "Start the command `prog` in the background"
    return subprocess.Popen([BIN/prog, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)

def one_line_error(res, prog, contains):
    "`res` (from `cli`) failed with exit status 1 and exactly one line on stderr, naming `prog` and holding `contains`"
    rc, out, err = res
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1, (rc, err)
    assert lines[0].startswith(f'{prog}: ') and contains in lines[0], lines[0]
    return lines[0]

def wait_for_checkpoint(p, ck, epoch, timeout=300):
    "Wait until the running process `p` has saved the checkpoint of `epoch` (-1: the one before the first epoch)"
    t0 = time.time()
    while True:
        try:
            if load_checkpoint(ck)['epoch'] >= epoch: return
        except Exception: pass
        assert p.poll() is None, p.communicate()
        assert time.time() - t0 < timeout, f'no checkpoint of epoch {epoch} after {timeout} s'
        time.sleep(0.05)
