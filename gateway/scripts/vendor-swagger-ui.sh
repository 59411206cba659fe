#!/usr/bin/env bash
# Refresh the vendored Swagger UI under src/linktor/gateway/static/swagger-ui/ from the npm
# registry. The files are committed so that /docs works with no network at run time; run
# this only to change the version (and commit the result).
#   usage: gateway/scripts/vendor-swagger-ui.sh [VERSION]
set -euo pipefail
VERSION="${1:-5.35.0}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/src/linktor/gateway/static/swagger-ui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
mkdir -p "$DEST"
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE favicon-32x32.png; do
  cp "$WORK/package/$f" "$DEST/$f"
done
echo "$VERSION" > "$DEST/VERSION"
echo "Swagger UI $VERSION vendored into $DEST"
