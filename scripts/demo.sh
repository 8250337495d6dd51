#!/usr/bin/env bash
# The newcomer's first command: install what berth needs, build it, make a busybox
# bundle offline and run a container from it. Run as root on Debian/Ubuntu.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "demo: run me as root (containers need it): sudo $0" >&2
  exit 1
fi
# The container's root filesystem is a static busybox: nothing is downloaded.
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "demo: installing busybox-static" >&2
  apt-get install -y -qq busybox-static >/dev/null
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs"/{proc,sys,dev,tmp,etc,root}
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh echo cat ls id hostname ps mount; do ln -s busybox "$bundle/rootfs/bin/$applet"; done
node bin/berth.js spec --bundle "$bundle"
# A non-interactive process: print who and where we are inside the container.
node -e '
  const fs = require("fs"); const file = process.argv[1];
  const c = JSON.parse(fs.readFileSync(file, "utf8"));
  c.process.terminal = false;
  c.process.args = ["sh", "-c", "echo hello from berth; id; hostname; ps"];
  fs.writeFileSync(file, JSON.stringify(c, null, 2));
' "$bundle/config.json"
node bin/berth.js run --bundle "$bundle" "demo-$$"
