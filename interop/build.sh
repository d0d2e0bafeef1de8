#!/usr/bin/env bash
# Builds the mbedTLS 2.28 interop peer into interop/build/ (gitignored).
# Rebuilds only when the source is newer than the binary. Needs Debian's libmbedtls-dev and a C compiler.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/build/mbedtls-peer"
src="$here/mbedtls-peer.c"
mkdir -p "$here/build"
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then
  exit 0
fi
if [ ! -f /usr/include/mbedtls/ssl.h ]; then
  echo "interop/build.sh: mbedTLS headers not found; install them with: apt-get install -y libmbedtls-dev" >&2
  exit 2
fi
"${CC:-cc}" -O2 -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L -o "$out" "$src" \
  -lmbedtls -lmbedx509 -lmbedcrypto
echo "built $out" >&2
