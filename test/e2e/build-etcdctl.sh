#!/usr/bin/env bash
# build-etcdctl.sh builds a current etcdctl (v3.7.3 by default) into a
# git-ignored cache directory and prints the binary's path. It is idempotent:
# a cached binary is reused. If the build fails (offline, empty module cache)
# it falls back to an etcdctl on PATH (Debian's etcd-client, 3.4) and says so
# on stderr.
set -euo pipefail

version="${ETCDCTL_VERSION:-v3.7.3}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${ETCDCTL_CACHE_DIR:-$repo_root/.cache/etcdctl/$version}"
bin="$dir/etcdctl"

if [[ -x "$bin" ]]; then
	echo "$bin"
	exit 0
fi

mkdir -p "$dir"
build() {
	cd "$dir"
	# A throw-away module: requiring etcdctl (rather than `go install @version`)
	# works because a dependency's replace directives are ignored.
	cat >go.mod <<MOD
module strata.local/etcdctl-build

go 1.26

require go.etcd.io/etcd/etcdctl/v3 $version
MOD
	cat >tools.go <<'SRC'
//go:build tools

package tools

import _ "go.etcd.io/etcd/etcdctl/v3"
SRC
	GOFLAGS=-mod=mod GOWORK=off go mod tidy >&2
	GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 go build -o etcdctl.tmp go.etcd.io/etcd/etcdctl/v3 >&2
	mv etcdctl.tmp etcdctl
}

if (build); then
	echo "$bin"
	exit 0
fi

echo "build-etcdctl.sh: building etcdctl $version failed; falling back to the system etcdctl" >&2
if ! command -v etcdctl >/dev/null 2>&1; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-client >&2 || true
	fi
fi
if command -v etcdctl >/dev/null 2>&1; then
	echo "build-etcdctl.sh: using $(command -v etcdctl) ($(etcdctl version 2>/dev/null | head -1))" >&2
	command -v etcdctl
	exit 0
fi
echo "build-etcdctl.sh: no etcdctl available" >&2
exit 1
