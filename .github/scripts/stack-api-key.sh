#!/usr/bin/env bash
# Usage: stack-api-key.sh STACK
#
# Before a preview: give the stack the API key `npm run deploy` would store,
# the same way the deploy would. A key the stack already holds (committed in
# stacks/Pulumi.STACK.yaml) is kept as it is, so the deploy that follows
# still compares QREDO_API_KEY with it and refuses a different one unless
# --replace-api-key was asked for. Only when the stack holds none is
# QREDO_API_KEY stored, trimmed as the deploy trims it, through stdin.
# The key is never printed and never on a command line.
set -euo pipefail

stack="${1:?usage: stack-api-key.sh STACK}"

# `pulumi config --json` lists secrets without their values.
if npm run --silent pulumi -- config --stack "$stack" --json | jq -e 'has("qredo-partner-keys:apiKey")' > /dev/null; then
    echo "stack $stack already holds an API key: the preview uses it"
    exit 0
fi

if [ -z "${QREDO_API_KEY:-}" ]; then
    echo "stack $stack holds no API key and QREDO_API_KEY is empty: add the QREDO_API_KEY secret to this job's environment (docs/pipeline.md)" >&2
    exit 2
fi
node -e 'process.stdout.write(process.env.QREDO_API_KEY.trim())' \
    | npm run --silent pulumi -- config set --stack "$stack" --secret apiKey
echo "stack $stack holds no API key: the preview uses QREDO_API_KEY from this environment"
