"Open a report in headless Chromium: the page renders and every embedded image decodes."
import re, shutil, subprocess
import pytest
from s8_fastai.core import Recipe
from s8_fastai.data import make_image_folder
from s8_fastai.train import run_recipe
from s8_fastai.interpret import report_data, write_report

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
CHECK = ("<script>window.addEventListener('load', () => { const im = [...document.images];"
         "document.body.dataset.images = im.length;"
         "document.body.dataset.loaded = im.filter(i => i.complete && i.naturalWidth > 0).length; });</script>")

@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason='Chromium not installed (apt-get install chromium)')
def test_report_in_chromium(tmp_path):
    learn = run_recipe(make_image_folder(tmp_path/'d', n_train=8, n_test=4), tmp_path/'run',
                       Recipe(epochs=2, bs=4, lr_min=0.01, lr_max=0.1), quiet=True)
    page = write_report(report_data(learn), learn.run_dir, metrics=learn.run_metrics, hist=learn.run_metrics['history'])
    n_img = page.read_text().count('<img ')
    probe = tmp_path/'probe.html'
    probe.write_text(page.read_text().replace('</body>', CHECK + '</body>'))
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync', f'--user-data-dir={tmp_path/"profile"}']
    r = subprocess.run([CHROMIUM, *flags, '--virtual-time-budget=5000', '--dump-dom', probe.as_uri()],
                       capture_output=True, text=True, timeout=120)
    body = re.search(r'<body[^>]*>', r.stdout).group(0)
    assert f'data-images="{n_img}"' in body and f'data-loaded="{n_img}"' in body, body
    assert n_img >= 6
    subprocess.run([CHROMIUM, *flags, '--window-size=1200,2400', f'--screenshot={tmp_path/"report.png"}', page.as_uri()],
                   capture_output=True, timeout=120)
    assert (tmp_path/'report.png').stat().st_size > 10_000
