"""Drop progress bars and library warnings from the outputs that `nbdev-test --flags real --save` stored in the notebooks.

The notebooks keep the outputs of their demo cells (figures, short tables) as documentation; fastprogress's text
bars and third-party deprecation warnings are noise there. Usage, from the project's root, after `nbdev-test --flags real --save`:
    python tools/clean_outputs.py && nbdev-clean
"""
import json
from pathlib import Path

BAR = ('█', '|----')

def is_noise(o):
    text = ''.join(o.get('text', ''))
    return o.get('output_type') == 'stream' and (any(b in text for b in BAR) or (o.get('name') == 'stderr' and 'Warning' in text))

root = Path(__file__).resolve().parents[1]
for fn in sorted((root/'nbs').glob('*.ipynb')):
    nb = json.loads(fn.read_text())
    n = 0
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        keep = [o for o in c.get('outputs', []) if not is_noise(o)]
        n += len(c.get('outputs', [])) - len(keep)
        c['outputs'] = keep
    if n:
        fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
        print(f'{fn.name}: {n} outputs dropped')
