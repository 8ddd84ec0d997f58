"""The latency of one classification with both heatmaps: through the app's API against the same work called directly.

Starts `s8_demo` on a free port of 127.0.0.1 and sends `--n` requests to its `/classify` endpoint with
`gradio_client` (upload, top classes, the 32x32 input, GradCAM at layer3 and layer2, each image encoded as PNG
and fetched back), one at a time. Before each request, the same work is done in this process: `classify`
(`learn.get_preds` on `learn.dls.test_dl`, then `gradcam` at both layers), the top classes and the two overlays,
once in the main thread and once in a worker thread (where Gradio runs a handler; on a busy CPU, PyTorch's
threads behave differently there). Prints the median, the 95th percentile and the ratios as a Markdown table.
Without RUN, a tiny run is trained first on a synthetic folder of 10 classes: the network is the full ResNet9
whatever it learned, so the timings are those of a real run. Usage, from the project's root, with the demo extra:

    python tools/demo_latency.py [RUN] [--n 50] [--images FOLDER]
"""
import argparse, os, socket, subprocess, sys, tempfile, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')  # gradio_client looks nothing up outside
from s8_fastai.core import Recipe  # first: it silences fastai's import-time torch.jit warning
import numpy as np, torch
from s8_fastai.data import make_image_folder, find_images
from s8_fastai.demo import open_run, classify, overlay, top_k
from gradio_client import Client, handle_file

BIN = Path(sys.executable).parent

def tiny_run(tmp:Path) -> Path:
    make_image_folder(tmp/'d', n_train=8, n_test=2, classes=tuple('abcdefghij'))
    r = subprocess.run([BIN/'s8_train', '--data', tmp/'d', '--out', tmp/'run', '--epochs', '1', '--bs', '16', '--lr-min', '0.01',
                        '--lr-max', '0.1', '--quiet', '--no-report'], capture_output=True, text=True)
    if r.returncode: sys.exit(r.stderr.strip().splitlines()[-1])
    return tmp/'run'

def serve(run, log):
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    p = subprocess.Popen([BIN/'s8_demo', run, '--port', str(port)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}/'
    for _ in range(600):
        if p.poll() is not None: sys.exit(f's8_demo ended with {p.returncode}')
        try: urllib.request.urlopen(url, timeout=5); return p, url
        except OSError: time.sleep(0.3)
    p.kill(); sys.exit('s8_demo did not start')

def stats(ts) -> dict:
    ms = np.array(ts)*1000
    return dict(median=float(np.median(ms)), p95=float(np.percentile(ms, 95)), mean=float(ms.mean()))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('run', nargs='?', help='a finished run folder (default: a tiny run trained first)')
    ap.add_argument('--n', type=int, default=50, help='classifications timed each way')
    ap.add_argument('--images', help='images to classify, in turn (default: the test images of the tiny run, or 10 synthetic ones)')
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix='demo_latency_'))
    run = Path(a.run) if a.run else tiny_run(tmp)
    files = find_images([a.images]) if a.images else sorted((tmp/'d'/'test').rglob('*.png')) if not a.run else []
    if not files: files = sorted(find_images([make_image_folder(tmp/'img', n_train=0, n_test=1, classes=tuple('abcdefghij'))/'test']))
    files = [files[i % len(files)] for i in range(a.n)]

    dr = open_run(run, predict=False)  # direct: what the app's handler does, in this process
    def direct(f):
        r = classify(dr.learn, f)
        return top_k(r.probs, dr.vocab, 3), overlay(r.seen, r.cams['layer3', r.pred], .5), overlay(r.seen, r.cams['layer2', r.pred], .5)
    with open(tmp/'s8_demo.log', 'w') as log:
        p, url = serve(run, log)
        try:
            client = Client(url, verbose=False)
            ask = lambda f: client.predict(handle_file(str(f)), 3, 'predicted class', 0.5, api_name='/classify')
            worker = ThreadPoolExecutor(1)
            for f in files[:3]: direct(f); worker.submit(direct, f).result(); ask(f)  # warm-up
            t_direct, t_thread, t_api, agree = [], [], [], 0
            for f in files:  # in turn, so that all three see the same load of the machine
                t = time.perf_counter(); r = direct(f); t_direct.append(time.perf_counter() - t)
                t = time.perf_counter(); worker.submit(direct, f).result(); t_thread.append(time.perf_counter() - t)
                t = time.perf_counter(); label = ask(f)[0]; t_api.append(time.perf_counter() - t)
                agree += label['label'] == next(iter(r[0]))
        finally: p.terminate(); p.wait(30)

    d, w, g = stats(t_direct), stats(t_thread), stats(t_api)
    print(f"run: {run} ({len(dr.vocab)} classes); {a.n} classifications each way, one at a time; torch threads {torch.get_num_threads()}; "
          f"load average {os.getloadavg()[0]:.1f}; the app's top class agreed with the direct one {agree}/{a.n} times\n")
    print('| one classification + GradCAM at layer3 and layer2 | median (ms) | p95 (ms) |\n|---|---:|---:|')
    print(f"| direct (`classify` + overlays, in process) | {d['median']:.1f} | {d['p95']:.1f} |")
    print(f"| direct, in a worker thread (as Gradio runs the handler) | {w['median']:.1f} | {w['p95']:.1f} |")
    print(f"| through the app (`gradio_client`, `/classify`) | {g['median']:.1f} | {g['p95']:.1f} |")
    print(f"| ratio app / direct in a worker thread | {g['median']/w['median']:.2f}x | {g['p95']/w['p95']:.2f}x |")
    print(f"| ratio app / direct in the main thread | {g['median']/d['median']:.2f}x | {g['p95']/d['p95']:.2f}x |")

if __name__ == '__main__': main()
