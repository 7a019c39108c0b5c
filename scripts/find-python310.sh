#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter, or explain how to get one.
# Order: $PYTHON310, python3.10 on PATH, then pyenv's installed 3.10.x versions.
set -u
try() { [ -n "$1" ] && "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { command -v "$1" 2>/dev/null || echo "$1"; exit 0; }; }
try "${PYTHON310:-}"
try "$(command -v python3.10 2>/dev/null || true)"
if command -v pyenv >/dev/null 2>&1; then
  root="$(pyenv root)"
  for p in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do try "$p"; done
fi
for p in "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do try "$p"; done
echo "错误：找不到 Python 3.10（Rasa 3.6 只支持 3.10）。请安装：pyenv install 3.10.13，或设置 PYTHON310=/path/to/python3.10" >&2
exit 1
