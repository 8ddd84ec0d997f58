"s8_demo in headless Chromium: upload an image and read the top class from the page, open Mistakes and select an image, check that the page asks nothing of another host; screenshots for the README."
import os, shutil
from pathlib import Path
import pytest
pytest.importorskip('gradio', reason='the demo extra is not installed (pip install -e ".[demo]")')
sync_api = pytest.importorskip('playwright.sync_api', reason='playwright is not installed')
from s8_fastai.train import load_run
from demo_helpers import tiny_run, serving

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
# The README's screenshots are refreshed only when asked (S8_SCREENSHOTS=1); otherwise they go to the test's
# temporary folder, so a test run leaves the checkout as it found it.
README_IMAGES = Path(__file__).resolve().parents[1]/'nbs'/'images'

def settled(page, sel):
    "Wait until the components matching `sel` show no pending status (their outputs drawn, not dimmed)"
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].every(e => !e.querySelector('[data-testid=status-tracker]:not(.hide)')"
                           " && !e.classList.contains('pending'))", arg=sel, timeout=60_000)
    page.wait_for_timeout(500)  # the fade-in

@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason='Chromium not installed (apt-get install chromium)')
def test_demo_in_chromium(tmp_path):
    shots = README_IMAGES if os.environ.get('S8_SCREENSHOTS') == '1' else tmp_path
    run = tiny_run(tmp_path)
    f = run.parent/'d'/'test'/'dog'/'0001.png'
    expected = load_run(run, data=False).predict(f)[0]
    with serving(run) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 1000})
            hosts = set()
            page.on('request', lambda r: hosts.add(r.url.split('/')[2]) if r.url.startswith('http') else None)
            page.goto(url)
            page.locator('#upload input[type=file]').set_input_files(f)
            page.wait_for_function("document.querySelector('#status')?.innerText.includes('Predicted')", timeout=60_000)
            assert page.locator('#top h2.output-class').inner_text().strip() == expected
            assert page.locator('#seen img').evaluate("im => getComputedStyle(im).imageRendering") == 'pixelated'
            page.wait_for_function("[...document.querySelectorAll('#cam-layer3 img, #cam-layer2 img')].filter(i => i.complete && i.naturalWidth == 32).length == 2")
            settled(page, '#top, #seen, #cam-layer3, #cam-layer2')
            page.screenshot(path=shots/'demo.png', full_page=True)

            (tmp_path/'bad.png').write_text('not an image')  # a bad upload: a message, and the page goes on
            page.locator('#upload button[aria-label="Remove Image"]').click()
            page.locator('#upload input[type=file]').set_input_files(tmp_path/'bad.png')
            page.wait_for_function("document.querySelector('#status')?.innerText.includes('Could not classify')", timeout=60_000)

            page.get_by_role('tab', name='Mistakes').click()
            page.locator('#mistakes-gallery img').first.click()
            page.wait_for_function("document.querySelector('#picked')?.innerText.includes('Test image')", timeout=60_000)
            assert page.locator('#mistakes-top h2.output-class').inner_text().strip() in ('cat', 'dog', 'frog')
            page.wait_for_function("[...document.querySelectorAll('[id^=mistake-layer] img')].filter(i => i.complete && i.naturalWidth == 32).length == 4")
            settled(page, '#mistakes-top, [id^=mistake-layer], #mistakes-gallery')
            page.screenshot(path=shots/'demo_mistakes.png', full_page=True)
            assert all((shots/f).stat().st_size > 10_000 for f in ('demo.png', 'demo_mistakes.png'))

            page.get_by_role('tab', name='Run').click()
            page.wait_for_selector('#metrics')
            assert 'test_accuracy' in page.locator('#metrics').inner_text()
            assert hosts == {url.split('/')[2]}, hosts  # offline: nothing asked of another host
        finally: browser.close()
