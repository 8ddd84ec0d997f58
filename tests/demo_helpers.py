"Shared by the demo's tests: a tiny finished run folder, and `s8_demo` serving it on a free port of 127.0.0.1."
import contextlib, os, socket, subprocess, tempfile, time, urllib.request
from pathlib import Path
from s8_fastai.data import make_image_folder
from helpers import BIN, FAST, cli

os.environ.setdefault('HF_HUB_OFFLINE', '1')  # gradio_client makes no outside look-up
os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
CLASSES = ('cat', 'dog', 'frog')

def tiny_run(tmp:Path) -> Path:
    "A finished run of two epochs on a synthetic folder of three classes (8 training and 4 test images each)"
    make_image_folder(tmp/'d', n_train=8, n_test=4, classes=CLASSES)
    rc, out, err = cli('s8_train', '--data', tmp/'d', '--out', tmp/'run', *FAST, '--bs', 8)
    assert rc == 0, err
    return tmp/'run'

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextlib.contextmanager
def serving(run, *args, timeout=180):
    "Start `s8_demo run` on a free port; yield its URL once the page answers; stop it after"
    port = free_port()
    log = tempfile.TemporaryFile('w+')  # not a pipe: nobody reads it while the app runs
    p = subprocess.Popen([BIN/'s8_demo', str(run), '--port', str(port), *map(str, args)], stdout=log, stderr=subprocess.STDOUT,
                         text=True, stdin=subprocess.DEVNULL)
    url, t0 = f'http://127.0.0.1:{port}/', time.time()
    try:
        while True:
            if p.poll() is not None:
                log.seek(0); raise AssertionError(f's8_demo ended with {p.returncode}: {log.read()[-2000:]}')
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200: break
            except OSError: pass
            assert time.time() - t0 < timeout, f's8_demo did not answer in {timeout} s'
            time.sleep(0.3)
        yield url
    finally:
        p.terminate()
        try: p.wait(timeout=30)
        except subprocess.TimeoutExpired: p.kill(); p.wait()
        log.close()
