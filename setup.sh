#!/usr/bin/env sh
# Perpetuo quick start. Needs only Node.js and npm; safe to run again.
#   ./setup.sh          install what is missing, then start Perpetuo on the embedded database
#   ./setup.sh test     install what is missing, then run the whole test suite
set -eu
cd "$(dirname "$0")"

case "${1:-start}" in
  start | test) ;;
  *)
    echo "usage: ./setup.sh [start|test [bun test arguments…]]" >&2
    exit 2
    ;;
esac

BUN_VERSION=$(sed -n 's/.*"bun": *"\([0-9.]*\)".*/\1/p' package.json | head -n 1)

# Without write access to npm's global prefix (a system Node.js, not root), Bun goes into a
# per-user prefix instead; it is put on PATH here, so later runs find it without installing again.
LOCAL_BUN_PREFIX="${XDG_DATA_HOME:-${HOME:-.}/.local/share}/perpetuo/bun-$BUN_VERSION"
if [ -x "$LOCAL_BUN_PREFIX/node_modules/.bin/bun" ]; then
  PATH="$LOCAL_BUN_PREFIX/node_modules/.bin:$PATH"
fi

if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  echo "setup: installing Bun $BUN_VERSION with npm" >&2
  if ! npm install -g "bun@$BUN_VERSION" >&2; then
    echo "setup: npm install -g failed; installing Bun into $LOCAL_BUN_PREFIX instead" >&2
    mkdir -p "$LOCAL_BUN_PREFIX"
    npm install --prefix "$LOCAL_BUN_PREFIX" --no-save --no-package-lock "bun@$BUN_VERSION" >&2
    PATH="$LOCAL_BUN_PREFIX/node_modules/.bin:$PATH"
  fi
  hash -r 2>/dev/null || true
  if [ "$(bun --version 2>/dev/null)" != "$BUN_VERSION" ]; then
    echo "setup: Bun $BUN_VERSION is still not the bun on PATH ($(command -v bun || echo none)); install it and run again" >&2
    exit 1
  fi
fi
export PATH

bun install --frozen-lockfile >&2

case "${1:-start}" in
  start)
    if [ ! -f .env ] || ! grep -q '^PERPETUO_SECRET=' .env; then
      echo "setup: writing a generated PERPETUO_SECRET to .env" >&2
      umask 077
      # Keep an existing last line whole when it has no newline at its end.
      if [ -s .env ] && [ -n "$(tail -c 1 .env)" ]; then echo >> .env; fi
      printf 'PERPETUO_SECRET=%s\n' "$(bun -e 'console.log(require("crypto").randomBytes(48).toString("base64url"))')" >> .env
    fi
    exec bun src/index.ts serve
    ;;
  test)
    shift
    chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
    # On the command line because Bun 1.4.4 applies a preload's setDefaultTimeout to the first test file only.
    status=0
    bun test --timeout 30000 "$@" || status=$?
    # Said last, where the summary is read: a run without Chromium did not test the dashboard in a browser.
    if [ ! -x "$chromium_path" ]; then
      echo "setup: WARNING: the browser (E2E) tests were SKIPPED: no Chromium at $chromium_path." >&2
      echo "setup: install it (apt-get install -y chromium) or set CHROMIUM_PATH, then run ./setup.sh test again." >&2
    fi
    exit "$status"
    ;;
esac
