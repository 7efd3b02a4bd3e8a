#!/usr/bin/env bash
# Usage: stack-api-key.sh STACK
#
# Before a preview: give the stack the API key `npm run deploy` would store,
# the same way the deploy would. A key the stack already holds (committed,
# encrypted, in stacks/Pulumi.STACK.yaml) is kept as it is and QREDO_API_KEY
# is not needed at all: that is the recommended setup for the preview
# environments, which then hold no copy of the key (docs/pipeline.md). Only
# when the stack holds none is QREDO_API_KEY stored, trimmed as the deploy
# trims it, through stdin. The key is never printed and never on a command line.
set -euo pipefail

stack="${1:?usage: stack-api-key.sh STACK}"

# `pulumi config --json` lists secrets without their values. Read it on its
# own, so that a failure to read the stack is reported as that, not as a
# missing key.
if ! config="$(npm run --silent pulumi -- config --stack "$stack" --json)"; then
    echo "could not read the configuration of stack $stack (see the error above): check PULUMI_BACKEND_URL and this job's AWS role" >&2
    exit 1
fi
if jq -e 'has("qredo-partner-keys:apiKey")' <<< "$config" > /dev/null; then
    echo "stack $stack already holds an API key: the preview uses it (QREDO_API_KEY is not read)"
    exit 0
fi

if [ -z "${QREDO_API_KEY:-}" ]; then
    echo "stack $stack holds no API key and QREDO_API_KEY is empty: commit the encrypted apiKey in stacks/Pulumi.$stack.yaml (docs/pipeline.md, Setting it up), or add the QREDO_API_KEY secret to this job's environment" >&2
    exit 2
fi
node -e 'process.stdout.write(process.env.QREDO_API_KEY.trim())' \
    | npm run --silent pulumi -- config set --stack "$stack" --secret apiKey
echo "stack $stack holds no API key: the preview uses QREDO_API_KEY from this environment"
