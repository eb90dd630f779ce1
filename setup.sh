#!/usr/bin/env sh
# Perpetuo quick start. Needs only Node.js and npm; safe to run again.
#   ./setup.sh          install what is missing, then start Perpetuo on the embedded database
#   ./setup.sh test     install what is missing, then run the whole test suite
set -eu
cd "$(dirname "$0")"

BUN_VERSION=$(sed -n 's/.*"bun": *"\([0-9.]*\)".*/\1/p' package.json | head -n 1)

if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  echo "setup: installing Bun $BUN_VERSION with npm" >&2
  npm install -g "bun@$BUN_VERSION" >&2
  hash -r 2>/dev/null || true
fi

bun install --frozen-lockfile >&2

case "${1:-start}" in
  start)
    if [ ! -f .env ] || ! grep -q '^PERPETUO_SECRET=' .env; then
      echo "setup: writing a generated PERPETUO_SECRET to .env" >&2
      umask 077
      printf 'PERPETUO_SECRET=%s\n' "$(bun -e 'console.log(require("crypto").randomBytes(48).toString("base64url"))')" >> .env
    fi
    exec bun src/index.ts serve
    ;;
  test)
    shift
    exec bun test "$@"
    ;;
  *)
    echo "usage: ./setup.sh [start|test]" >&2
    exit 2
    ;;
esac
