#!/usr/bin/env bash
# Set up everything docvlm needs, idempotently: system packages (poppler-utils for the
# pdf2image backend, docker-compose to validate the compose file, free fonts the training
# lines are drawn in), a virtual environment at .venv/ in the repository root, the CPU build of torch 2.13.0 first (a looser requirement would
# pull a multi-GB CUDA build), then docvlm itself with its test and benchmark tools
# (Tesseract and RapidOCR are baselines the benchmarks measure docvlm against).
#
#   scripts/setup.sh            # then: .venv/bin/docvlm --help
#
# Environment: PYTHON (default python3.11 or python3), TORCH_INDEX_URL (e.g.
# https://download.pytorch.org/whl/cpu where that wheel is not on the local index).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v tesseract >/dev/null 2>&1 || need_apt+=(tesseract-ocr tesseract-ocr-eng)  # baseline
# free fonts the training lines are drawn in (docvlm/synth/fonts.py SYSTEM_FAMILIES)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf ] || need_apt+=(fonts-dejavu-core fonts-dejavu-extra)
[ -f /usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf ] || need_apt+=(fonts-liberation)
[ -f /usr/share/fonts/truetype/freefont/FreeMono.ttf ] || need_apt+=(fonts-freefont-ttf)
[ -f /usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Regular.otf ] || need_apt+=(fonts-urw-base35)
[ -f /usr/share/fonts/truetype/anonymous-pro/Anonymous\ Pro.ttf ] || need_apt+=(fonts-roboto \
  fonts-open-sans fonts-lato fonts-crosextra-carlito fonts-crosextra-caladea fonts-cantarell \
  fonts-oxygen fonts-inconsolata fonts-hack fonts-noto-mono fonts-anonymous-pro)
# bitmap fonts for training lines printed dot by dot (docvlm/synth/pixel.py)
[ -f /usr/share/fonts/X11/misc/6x13.pcf.gz ] || need_apt+=(xfonts-base)
[ -f /usr/share/fonts/opentype/terminus/terminus-normal.otb ] || need_apt+=(fonts-terminus-otb)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
    echo "setup: installing system packages: ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 \
      || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null; }
  else
    echo "setup: please install ${need_apt[*]} with your system's package manager" >&2
  fi
fi

PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
if ! .venv/bin/python -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" 2>/dev/null; then
  echo "setup: installing torch 2.13.0 (CPU build)" >&2
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "${PIP[@]}" install "torch==2.13.0" --index-url "$TORCH_INDEX_URL"
  else
    "${PIP[@]}" install "torch==2.13.0"
  fi
fi
"${PIP[@]}" install -e ".[dev,bench]" 2> >(grep -v "^WARNING: Location" >&2)
