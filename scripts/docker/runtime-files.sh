#!/bin/sh
# Copies what the built services need at run time into $1, in the repository's layout: every
# workspace's package.json and dist/, and the API's dashboard assets. The Docker image's
# runtime stage lays this over the production dependencies (production-deps.mjs), and
# test/production-image.test.ts runs both scripts, so the tested layout is the shipped one.
# Run it from the repository root after `npm run build`.
set -eu
dest=${1:?usage: runtime-files.sh DEST}
for dir in apps/* packages/*; do
  [ -f "$dir/package.json" ] || continue
  mkdir -p "$dest/$dir"
  cp "$dir/package.json" "$dest/$dir/"
  if [ -d "$dir/dist" ]; then cp -R "$dir/dist" "$dest/$dir/"; fi
done
cp -R apps/api/dashboard "$dest/apps/api/"
