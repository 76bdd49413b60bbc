#!/bin/bash
# build-debian12.sh CACHE_DIR
#
# Builds CACHE_DIR/debian12: a real Debian 12 (bookworm) root made with
# debootstrap --variant=minbase plus the packages the CIS checks look at, for
# the integration test in agent/cmd/plumbline-agent/debian12_test.go.
#
# Cached and idempotent: CACHE_DIR/debian12.stamp records this script's
# sha256 and the package list; when it matches, nothing is done. The root is
# built in a temp dir next to the target and renamed into place at the end,
# so an interrupted build never leaves a half root that looks complete.
#
# Environment:
#   DEBIAN_MIRROR  archive to build from (default: the bookworm mirror in
#                  this machine's apt sources, else http://deb.debian.org/debian)
#
# Exit status: 0 the root is ready; 75 (EX_TEMPFAIL) the root cannot be built
# here (the archive is unreachable, or not running as root), with a one-line
# reason as the last line on stderr; anything else is a failure (with the
# tail of the debootstrap log).
#
# Needs root (debootstrap, chroot). Installs Debian's debootstrap package with
# apt-get when it is missing.
set -euo pipefail

SUITE=bookworm
PACKAGES="sudo,openssh-server,auditd,rsyslog,libpam-pwquality"
EX_UNAVAILABLE=75

die() { echo "build-debian12: $*" >&2; exit 1; }
unavailable() { echo "build-debian12: Debian archive unavailable: $*" >&2; exit "$EX_UNAVAILABLE"; }

[ $# -eq 1 ] || die "usage: $0 CACHE_DIR"
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd -P)
target=$cache/debian12
stamp=$cache/debian12.stamp

self=$(readlink -f "$0")
want_stamp="script-sha256 $(sha256sum "$self" | cut -d' ' -f1)
suite $SUITE
packages $PACKAGES"

# Fast path, before anything else (no lock, no root needed): a complete root
# built by this very script.
if [ -d "$target" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
	exit 0
fi

# Not being root is an environment limit like an offline archive, not a
# defect: report it as unavailable so that the test says why it skipped.
[ "$(id -u)" -eq 0 ] || { echo "build-debian12: cannot build: debootstrap needs root (run as root once to fill $cache)" >&2; exit "$EX_UNAVAILABLE"; }

# One build at a time per cache dir (make test and go test may race).
exec 9>"$cache/debian12.lock"
if command -v flock >/dev/null; then
	flock 9
	# Someone else may have finished it while we waited.
	if [ -d "$target" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
		exit 0
	fi
fi

# --- mirror --------------------------------------------------------------
# The first bookworm "…/debian" URI of apt's sources (deb822 or one-line).
apt_mirror() {
	{
		# deb822: URIs: and Suites: of the same stanza.
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk '
				/^[[:space:]]*$/ { if (u != "" && s ~ /(^| )'"$SUITE"'( |$)/) print u; u = ""; s = ""; next }
				/^URIs:/   { u = $2 }
				/^Suites:/ { $1 = ""; s = $0 " " }
				END { if (u != "" && s ~ /(^| )'"$SUITE"'( |$)/) print u }
			' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == "'"$SUITE"'") print $i }' "$f"
		done
	} 2>/dev/null | grep -E '^https?://[^ ]*/debian/?$' | head -n 1 | sed 's:/$::'
}
mirror=${DEBIAN_MIRROR:-$(apt_mirror || true)}
mirror=${mirror:-http://deb.debian.org/debian}
release_url=$mirror/dists/$SUITE/Release

# --- reachability ------------------------------------------------------------
# A quick fetch of the suite's Release file, 10 s at most, so that an offline
# machine gets a clear "unavailable" instead of a debootstrap failure.
probe() {
	if command -v curl >/dev/null; then
		curl -fsSL --max-time 10 -o /dev/null "$release_url" 2>&1 | head -n 1
		return "${PIPESTATUS[0]}"
	fi
	if command -v wget >/dev/null; then
		wget -q -T 10 -t 1 -O /dev/null "$release_url" 2>&1 | head -n 1
		return "${PIPESTATUS[0]}"
	fi
	# bash's /dev/tcp: plain http only.
	local rest hostport host port path status
	case $release_url in
	http://*) rest=${release_url#http://} ;;
	*) echo "no curl or wget to fetch $release_url"; return 1 ;;
	esac
	hostport=${rest%%/*} path=/${rest#*/}
	host=${hostport%%:*} port=80
	[ "$host" = "$hostport" ] || port=${hostport#*:}
	# shellcheck disable=SC2016 # expanded by the inner bash
	status=$(timeout 10 bash -c '
		exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "HEAD %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" "$3" "$1" >&3
		head -n 1 <&3' _ "$host" "$port" "$path" 2>/dev/null) || { echo "cannot connect to $host:$port"; return 1; }
	case $status in
	"HTTP/"*" "[23][0-9][0-9]*) return 0 ;;
	*) echo "${status:-no answer}"; return 1 ;;
	esac
}
if ! why=$(probe); then
	unavailable "cannot fetch $release_url within 10s${why:+ ($(echo "$why" | tr -d '\r' | head -c 200))}"
fi

# --- debootstrap ---------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
	command -v apt-get >/dev/null || die "debootstrap is missing and there is no apt-get to install it"
	echo "build-debian12: installing debootstrap" >&2
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends debootstrap >&2; then
		# Stale package lists: refresh, once.
		apt-get update -q >&2 || true
		apt-get install -y -q --no-install-recommends debootstrap >&2 ||
			die "cannot install debootstrap with apt-get"
	fi
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
keyopt=()
if [ -f "$keyring" ]; then
	keyopt=(--keyring="$keyring")
else
	echo "build-debian12: warning: $keyring missing (apt-get install debian-archive-keyring); not checking signatures" >&2
	keyopt=(--no-check-gpg)
fi

# --- build ---------------------------------------------------------------------
tmp=$(mktemp -d "$cache/.debian12.tmp.XXXXXX")
log=$cache/debian12.log
old=

# mounts_under DIR: the mount points at or below DIR, deepest first
# (/proc/mounts escapes spaces and the like as octal).
mounts_under() {
	local esc
	esc=$(printf '%s' "$1" | sed 's/\\/\\134/g; s/ /\\040/g; s/\t/\\011/g')
	awk -v d="$esc" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
		while IFS= read -r m; do printf '%b\n' "$m"; done
}
unmount_all() {
	mounts_under "$1" | while IFS= read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	[ -z "$(mounts_under "$1")" ]
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -d "$tmp" ]; then
		if unmount_all "$tmp"; then
			rm -rf --one-file-system "$tmp"
		else
			echo "build-debian12: still mounted under $tmp, not removing it:" >&2
			mounts_under "$tmp" >&2
			rc=1
		fi
	fi
	[ -z "$old" ] || rm -rf --one-file-system "$old"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Stale temp dirs of interrupted builds (we hold the lock, so none is live).
for d in "$cache"/.debian12.tmp.* "$cache"/.debian12.old.*; do
	[ "$d" = "$tmp" ] || [ ! -d "$d" ] || { unmount_all "$d" && rm -rf --one-file-system "$d"; } || true
done

root=$tmp/root
echo "build-debian12: debootstrap $SUITE from $mirror into $target (log: $log)" >&2
start=$(date +%s)

# Two stages so that a policy-rc.d is in place before any package is
# configured: nothing may start a service on this machine.
if ! debootstrap --foreign --variant=minbase --arch="$(dpkg --print-architecture)" \
	--include="$PACKAGES" "${keyopt[@]}" "$SUITE" "$root" "$mirror" >"$log" 2>&1; then
	if grep -qE "Couldn't download|Failed getting release|Failed getting release signature|Could not resolve|Connection refused|Unable to connect|Temporary failure in name resolution|timed out|Network is unreachable|No route to host" "$log"; then
		unavailable "download failed: $(grep -E "Couldn't download|Failed getting|Could not resolve|Connection refused|Unable to connect|Temporary failure|timed out|unreachable|No route" "$log" | tail -n 1 | head -c 200)"
	fi
	echo "build-debian12: debootstrap (first stage) failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
fi
printf '#!/bin/sh\n# build-debian12.sh: start no services while building\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
if ! chroot "$root" /debootstrap/debootstrap --second-stage >>"$log" 2>&1; then
	echo "build-debian12: debootstrap (second stage) failed; last lines of $log:" >&2
	tail -n 30 "$log" >&2
	[ ! -f "$root/debootstrap/debootstrap.log" ] || tail -n 30 "$root/debootstrap/debootstrap.log" >&2
	exit 1
fi
unmount_all "$root" || die "cannot unmount what debootstrap mounted under $root: $(mounts_under "$root" | tr '\n' ' ')"

# Leave the root as a stock install would be: no build-time policy, no
# downloaded packages, no apt lists.
rm -f "$root/usr/sbin/policy-rc.d"
rm -f "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
for p in sudo openssh-server auditd rsyslog libpam-pwquality; do
	grep -q "^Package: $p\$" "$root/var/lib/dpkg/status" || die "$p is not installed in the new root"
done

# Into place: the old root (stale stamp) goes only after the new one is in.
rm -f "$stamp"
if [ -e "$target" ]; then
	old=$(mktemp -d "$cache/.debian12.old.XXXXXX")
	mv "$target" "$old/root"
fi
mv "$root" "$target"
printf '%s\n' "$want_stamp" >"$stamp.tmp"
mv "$stamp.tmp" "$stamp"
echo "build-debian12: $target ready in $(($(date +%s) - start))s ($(du -sh "$target" | cut -f1))" >&2
