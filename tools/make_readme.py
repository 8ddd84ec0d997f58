"""Build README.md from nbs/index.ipynb (nbdev-readme needs Quarto, which these machines cannot install).

Markdown cells are copied as they are; a `!command` cell is run and shown with its output.
Usage, from the project's root: python tools/make_readme.py
"""
import json, os, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
nb = json.loads((root/'nbs'/'index.ipynb').read_text())
parts = []
for c in nb['cells']:
    src = ''.join(c['source'])
    if c['cell_type'] == 'markdown': parts.append(src)
    elif src.startswith('!'):
        env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get('PATH', '')]))  # the venv's commands
        r = subprocess.run(src[1:], shell=True, capture_output=True, text=True, env=env)
        if r.returncode: sys.exit(f"make_readme: {src[1:]!r} failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
        out = r.stdout
        out = '\n'.join(l for l in out.splitlines() if not l.startswith('s8_fastai '))
        parts.append(f"```sh\n$ {src[1:]}\n```\n\n```\n{out.rstrip()}\n```")
(root/'README.md').write_text(('\n\n'.join(parts) + '\n').replace('](images/', '](nbs/images/'))
