#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, test and run Ferry:
# btrfs-progs, a C++ toolchain for better-sqlite3's native module, Chromium for
# the web UI's browser tests, and the npm dependencies from the lock file.
# Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
command -v mkfs.btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
command -v losetup >/dev/null 2>&1 || need+=(mount)
command -v findmnt >/dev/null 2>&1 || need+=(util-linux)
command -v make >/dev/null 2>&1 || need+=(make)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v getfattr >/dev/null 2>&1 || need+=(attr)   # tests compare xattrs
command -v faketime >/dev/null 2>&1 || need+=(faketime)   # fault tests skew a daemon's clock (libfaketime)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)   # tests verify deploy/ferry.service
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)   # browser tests drive the web UI (playwright-core, no download)

if ((${#need[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${need[*]}; run as root (or install them) first" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The btrfs module must be loadable for loop-mounted test pools and real pools alike.
if ! grep -qw btrfs /proc/filesystems; then
  modprobe btrfs 2>/dev/null || true
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Build, and put `ferry` on PATH (every README example calls it by name).
npm run --silent build
if [[ $(id -u) -eq 0 ]]; then
  ln -sfn "$PWD/dist/ferry.cjs" /usr/local/bin/ferry
  echo "setup: ferry $(ferry --version) is /usr/local/bin/ferry -> $PWD/dist/ferry.cjs"
else
  echo "setup: built $PWD/dist/ferry.cjs; as root, setup links it as /usr/local/bin/ferry"
fi
echo "setup: ready"
