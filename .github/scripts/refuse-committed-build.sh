#!/usr/bin/env bash
# Refuses a checkout that commits build output. The program runs from bin/ (and
# the client package from client/dist/) whenever the source hash recorded there
# matches the sources (scripts/build.js), so a committed bin/ with a matching
# record would run in a deploy instead of the TypeScript the reviewers read.
# Both folders are git-ignored; only `git add -f` puts them in a commit.
set -euo pipefail
count="$(git ls-files -- bin client/dist | wc -l)"
if [ "$count" -ne 0 ]; then
    echo "error: $count file(s) under bin/ or client/dist/ are committed. They are build output: a deploy would run them instead of the reviewed sources. Remove them from git (git rm -r --cached bin client/dist) and commit; the build makes them." >&2
    exit 1
fi
