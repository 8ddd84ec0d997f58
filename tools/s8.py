"Run one of s8_fastai's commands without installing the package: `python tools/s8.py s8_train --help`"
import sys
from s8_fastai import cli
if len(sys.argv) < 2 or not sys.argv[1].startswith('s8_') or not hasattr(cli, sys.argv[1]):
    sys.exit("usage: python tools/s8.py s8_train|s8_report|s8_predict|s8_bench [options]")
sys.argv[0] = sys.argv.pop(1)
getattr(cli, sys.argv[0])()
