// Stand-in `pulumi` and `npm` executables (fake-pulumi.js, fake-npm.js) in a
// folder to put first on PATH; they record their calls in $FAKE_PULUMI_DIR.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * The read-only calls every deploy and verify makes (version, stack ls,
 * config --json, stack output --json, config get, stack export [--show-secrets]) answered by the shell from files fake-pulumi.js
 * renders, and recorded like every call: a Node.js start costs far more
 * than the rest of a call, and the suite makes many.
 */
const quickAnswers = `d="$FAKE_PULUMI_DIR/answers"; answer=""
if [ -z "$FAKE_PULUMI_HANG" ]; then
  case "$*" in
    version) [ -z "$FAKE_PULUMI_VERSION" ] && answer=version ;;
    "stack ls --json") answer="$d/ls.json" ;;
    "config --stack "*" --json") [ "$#" -eq 4 ] && answer="$d/config-$3.json" ;;
    "stack output --stack "*" --json") [ "$#" -eq 5 ] && answer="$d/output-$4.json" ;;
    "config get --stack "*) [ "$#" -eq 5 ] && answer="$d/get-$4-$5" ;;
    "stack export --stack "*" --show-secrets") [ "$#" -eq 5 ] && answer="$d/export-secrets-$4.json" ;;
    "stack export --stack "*) [ "$#" -eq 4 ] && answer="$d/export-$4.json" ;;
  esac
fi
if [ "$answer" = version ] || { [ -n "$answer" ] && [ -f "$answer" ]; }; then
  args=""; for a in "$@"; do args="$args\${args:+,}\\"$a\\""; done
  backend=null; [ -n "\${PULUMI_BACKEND_URL+x}" ] && backend="\\"$PULUMI_BACKEND_URL\\""
  pass=null; [ -n "\${PULUMI_CONFIG_PASSPHRASE+x}" ] && pass="\\"$PULUMI_CONFIG_PASSPHRASE\\""
  passfile=null; [ -n "\${PULUMI_CONFIG_PASSPHRASE_FILE+x}" ] && passfile="\\"$PULUMI_CONFIG_PASSPHRASE_FILE\\""
  aws=false; [ -n "\${AWS_SECRET_ACCESS_KEY+x}" ] && aws=true
  qredo=false; [ -n "\${QREDO_API_KEY+x}" ] && qredo=true
  printf '{"args":[%s],"stdin":"","backend":%s,"passphrase":%s,"passphraseFile":%s,"aws":%s,"qredoApiKey":%s}\\n' "$args" "$backend" "$pass" "$passfile" $aws $qredo >> "$FAKE_PULUMI_DIR/calls.jsonl"
  if [ "$answer" = version ]; then echo v3.250.0; else cat "$answer"; fi
  exit 0
fi
`;

/** Writes the stand-ins into `dir`/bin and returns a PATH that finds them first. */
export function fakeCliPath(dir: string): string {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    for (const [name, script] of [
        ["pulumi", "fake-pulumi.js"],
        ["npm", "fake-npm.js"],
    ]) {
        const quick = name === "pulumi" ? quickAnswers : "";
        writeFileSync(join(bin, name), `#!/bin/sh\n${quick}exec "${process.execPath}" "${join(__dirname, script)}" "$@"\n`);
        chmodSync(join(bin, name), 0o755);
    }
    return [bin, ...systemPath()].join(":");
}

/** PATH without the stand-ins: Node.js and the system tools only. */
export function systemPath(): string[] {
    return [dirname(process.execPath), "/usr/bin", "/bin"];
}
