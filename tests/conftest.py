import os, signal
from pathlib import Path
import pytest

# A shell that starts the tests in the background (`pytest ... &`) ignores SIGINT for them, and the commands they start
# inherit that: Ctrl-C would not reach them, and the interrupt tests would time out or find the run finished. The tests
# stand for a user at a terminal, so the commands get Python's own Ctrl-C (a handler resets to the default at exec).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN: signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]
CIFAR_JPEG = Path(os.environ.get('S8_CIFAR_JPEG', ROOT.parent/'shared'/'data'/'cifar10-jpeg'))

@pytest.fixture(scope='session')
def cifar_jpeg():
    if not CIFAR_JPEG.exists(): pytest.skip(f'{CIFAR_JPEG} not found (set S8_CIFAR_JPEG)')
    return CIFAR_JPEG

@pytest.fixture(scope='session')
def real_small(cifar_jpeg, tmp_path_factory):
    "A real-image folder of 300 train and 100 test images per class (links into the JPEG copy)"
    d = tmp_path_factory.mktemp('cifar_small')
    for split, n in (('train', 300), ('test', 100)):
        for cls in sorted(p.name for p in (cifar_jpeg/split).iterdir()):
            (d/split/cls).mkdir(parents=True)
            for f in sorted((cifar_jpeg/split/cls).glob('*.jpg'))[:n]: (d/split/cls/f.name).symlink_to(f)
    return d
