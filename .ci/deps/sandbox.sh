#!/usr/bin/env bash
# Tools the sluice-sandbox tests need (run as root on a fresh Debian machine
# by .ci/run; idempotent: installs only what is missing).
#   bubblewrap  - the sandbox's user/mount/pid/ipc/uts namespaces
#   strace      - the system view (needs >= 5.19 for --decode-pids)
#   nftables    - redirect of every flow to the in-namespace sink
#   iproute2    - lo address and default route in the namespace
#   util-linux  - setpriv (throw-away uid), unshare
#   curl        - fixtures start `curl` from a shell, like droppers do
#   python3 + pip + setuptools, nodejs + npm - the runtimes packages run in
set -euo pipefail

missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }
for pair in bwrap:bubblewrap strace:strace nft:nftables ip:iproute2 setpriv:util-linux \
            curl:curl python3:python3 node:nodejs npm:npm; do
    have "${pair%%:*}" || missing+=("${pair##*:}")
done
if ! python3 -c 'import pip, setuptools' >/dev/null 2>&1; then
    missing+=(python3-pip python3-setuptools)
fi
if ((${#missing[@]})); then
    echo "sandbox deps: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    echo "sandbox deps: all present"
fi
bwrap --version
strace -V | head -1
nft --version
