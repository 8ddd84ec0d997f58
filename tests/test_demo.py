"s8_demo through its API (gradio_client against the running command): the answers of learn.predict and s8_predict, hostile uploads, and the command's one-line errors."
import socket
import pytest
pytest.importorskip('gradio', reason='the demo extra is not installed (pip install -e ".[demo]")')
from gradio_client import Client, handle_file
from PIL import Image
import numpy as np
from s8_fastai.data import read_image
from s8_fastai.train import load_run, RunLock, read_run, write_run
from helpers import cli, one_line_error
from demo_helpers import tiny_run, serving, free_port, CLASSES

@pytest.fixture(scope='module')
def run(tmp_path_factory): return tiny_run(tmp_path_factory.mktemp('demo'))

@pytest.fixture(scope='module')
def client(run):
    with serving(run) as url: yield Client(url, verbose=False)

def classify(client, f, k=3, cls='predicted class', opacity=0.5):
    return client.predict(handle_file(str(f)), k, cls, opacity, api_name='/classify')

def test_classify_is_learn_predict(run, client):
    learn = load_run(run, data=False)
    f = run.parent/'d'/'test'/'dog'/'0001.png'
    label, seen, cam3, cam2, msg = classify(client, f, k=10)
    cls, _, probs = learn.predict(f)
    assert label['label'] == cls
    assert {c['label']: c['confidence'] for c in label['confidences']} == {v: float(p) for v, p in zip(learn.dls.vocab, probs)}
    assert np.array_equal(np.asarray(Image.open(seen)), read_image(f, resize=True))  # the 32x32 image the network took
    for cam in (cam3, cam2): assert Image.open(cam).size == (32, 32)
    assert cls in msg
    rc, out, err = cli('s8_predict', run, f)  # the command line says the same
    assert rc == 0 and out.split('\t')[1:] == [cls, f'{probs.max():.4f}\n']

def test_top_k_and_other_class(run, client):
    f = run.parent/'d'/'test'/'cat'/'0000.png'
    label, *_ , msg = classify(client, f, k=2, cls='frog', opacity=1)
    assert len(label['confidences']) == 2 and 'heatmaps for **frog**' in msg
    big = run.parent/'big.jpg'  # any size is scaled and cropped, as s8_predict does
    Image.fromarray(np.asarray(Image.open(f).resize((300, 200)))).save(big)
    assert classify(client, big)[0]['label'] in CLASSES

@pytest.mark.parametrize('name,data', [('notes.png', b'not an image'), ('empty.jpg', b''), ('half.png', None),
                                       ('page.pdf', b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj'), ('x.svg', b'<svg xmlns="http://www.w3.org/2000/svg"/>')])
def test_bad_upload(run, client, tmp_path, name, data):
    f = tmp_path/name
    if data is None: data = (run.parent/'d'/'test'/'cat'/'0000.png').read_bytes()[:200]  # a cut PNG
    f.write_bytes(data)
    label, seen, cam3, cam2, msg = classify(client, f)
    assert not label and seen is None and 'Could not classify this file' in msg and name in msg and 'Traceback' not in msg, msg
    assert str(tmp_path) not in msg  # no server path in the page
    assert classify(client, run.parent/'d'/'test'/'frog'/'0000.png')[0]['label'] in CLASSES  # still serving

def test_mistakes_api(client):
    gallery, msg = client.predict('any', 'any', 100, True, 'layer2', 0.5, api_name='/mistakes')
    for item in gallery: assert Image.open(item['image']).size == (32, 32) and ' → ' in item['caption']

def test_missing_and_unfinished_run(run, tmp_path):
    one_line_error(cli('s8_demo', tmp_path/'nope'), 's8_demo', 'not a run folder (no run.json)')
    (tmp_path/'unfinished').mkdir(); write_run(tmp_path/'unfinished', read_run(run))
    one_line_error(cli('s8_demo', tmp_path/'unfinished'), 's8_demo', 'the run has not finished (no metrics.json)')

def test_busy_run(run):
    lock = RunLock(run)  # as s8_train holds it
    try: one_line_error(cli('s8_demo', run), 's8_demo', 's8_train is writing this run folder')
    finally: lock.release()

def test_port_in_use(run):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); s.listen(); port = s.getsockname()[1]
        one_line_error(cli('s8_demo', run, '--port', port), 's8_demo', f'port {port} on 127.0.0.1 is in use')
    one_line_error(cli('s8_demo', run, '--port', 70000), 's8_demo', 'port must be between 1 and 65535')
