#!/usr/bin/env bash
# The headless browser of the end-to-end widget tests: Debian's chromium (npm's browser
# downloads cannot reach their hosts here). Idempotent: installs only what is missing, and
# only as root; prints the executable's path.
#
#   scripts/browser.sh            install if missing, print the path
#   LINKTOR_CHROMIUM=/path/to/chromium scripts/browser.sh   use another build
set -euo pipefail

CHROMIUM=${LINKTOR_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "browser.sh: $CHROMIUM is missing: sudo apt-get install chromium" >&2
		exit 1
	fi
	log=$(mktemp -t linktor-chromium-install.XXXXXX.log)
	echo "browser.sh: installing Debian's chromium (log: $log)" >&2
	export DEBIAN_FRONTEND=noninteractive
	opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
	# fonts-liberation: text in screenshots looks like text.
	if ! apt-get install "${opts[@]}" chromium fonts-liberation </dev/null >>"$log" 2>&1; then
		apt-get update -q </dev/null >>"$log" 2>&1
		apt-get install "${opts[@]}" chromium fonts-liberation </dev/null >>"$log" 2>&1 || {
			tail -n 20 "$log" >&2
			exit 1
		}
	fi
fi
echo "$CHROMIUM"
