import os
from pathlib import Path
import pytest

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
