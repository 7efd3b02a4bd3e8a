// Stand-in `pulumi` and `npm` executables (fake-pulumi.js, fake-npm.js) in a
// folder to put first on PATH; they record their calls in $FAKE_PULUMI_DIR.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { envNames } from "./fakePulumiCalls.js";

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
  # What the record would hold must need no escaping in JSON: else the server or fake-pulumi.js records it.
  case "$*$PULUMI_BACKEND_URL$PULUMI_CONFIG_PASSPHRASE$PULUMI_CONFIG_PASSPHRASE_FILE$PARTNER_KEYS_CONFIG_COMMAND" in *[\\"\\\\[:cntrl:]]*) answer="" ;; esac
fi
if [ "$answer" = version ] || { [ -n "$answer" ] && [ -f "$answer" ]; }; then
  args=""; for a in "$@"; do args="$args\${args:+,}\\"$a\\""; done
  backend=null; [ -n "\${PULUMI_BACKEND_URL+x}" ] && backend="\\"$PULUMI_BACKEND_URL\\""
  pass=null; [ -n "\${PULUMI_CONFIG_PASSPHRASE+x}" ] && pass="\\"$PULUMI_CONFIG_PASSPHRASE\\""
  passfile=null; [ -n "\${PULUMI_CONFIG_PASSPHRASE_FILE+x}" ] && passfile="\\"$PULUMI_CONFIG_PASSPHRASE_FILE\\""
  aws=false; [ -n "\${AWS_SECRET_ACCESS_KEY+x}" ] && aws=true
  qredo=false; [ -n "\${QREDO_API_KEY+x}" ] && qredo=true
  fixes=null; [ -n "\${PARTNER_KEYS_CONFIG_COMMAND+x}" ] && fixes="\\"$PARTNER_KEYS_CONFIG_COMMAND\\""
  printf '{"args":[%s],"stdin":"","backend":%s,"passphrase":%s,"passphraseFile":%s,"aws":%s,"qredoApiKey":%s,"configCommand":%s}\\n' "$args" "$backend" "$pass" "$passfile" $aws $qredo "$fixes" >> "$FAKE_PULUMI_DIR/calls.jsonl"
  if [ "$answer" = version ]; then echo v3.250.0; else cat "$answer"; fi
  exit 0
fi
`;

/**
 * The other calls (stack init, config set, up, …), handed to fakePulumiServer.js
 * over loopback by bash (its /dev/tcp), in the protocol that file describes;
 * stdin, stdout and stderr go as Base64, so every byte, NULs too, arrives.
 * fake-pulumi.js answers instead without the server (not started yet, or
 * gone), for a call the server leaves to a process of its own, and without
 * bash 4 and base64 (macOS has bash 3.2, and a base64 without -w). The wait for
 * the server's reply is bounded at 20 s; the rest of a reply is sent at once.
 * Run as: bash pulumi-client ARGS... (the port is in .port beside it).
 */
function serverClient(fallback: string): string {
    const sendEnv = envNames.map((name) => `[ -n "\${${name}+x}" ] && printf '%s=%s\\0' ${name} "$${name}"`).join("\n  ");
    return `fallback() { exec ${fallback} "$@"; }
[ "\${BASH_VERSINFO[0]:-0}" -ge 4 ] && command -v base64 >/dev/null || fallback "$@"
{ read -r port < "\${0%/*}/.port"; } 2>/dev/null && [ -n "$port" ] || fallback "$@"
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || fallback "$@"
cd -P . 2>/dev/null # the folder as Node.js sees it, symbolic links resolved
{
  printf '%s\\0' "$#" "$@"
  ${sendEnv}
  printf '\\0%s\\0' "$PWD"
  if [ -t 0 ]; then printf '1\\0'; else printf '0\\0'; fi
} >&3 2>/dev/null || fallback "$@"
unanswered() { echo "fake pulumi: the server did not answer" >&2; exit 99; }
IFS= read -t 20 -r reply <&3 || unanswered
case "$reply" in
  node) exec 3>&-; fallback "$@" ;;
  stdin)
    # A closed stdin reads as empty, as Node.js reads it.
    if { exec 4<&0; } 2>/dev/null; then data=$(base64 -w0 <&4); else data=""; fi
    printf '%s\\0' "$data" >&3
    IFS= read -t 20 -r reply <&3 || unanswered ;;
esac
[ "$reply" = "\${reply#result }" ] && { echo "fake pulumi: unexpected reply from the server: $reply" >&2; exit 99; }
IFS= read -t 20 -r out <&3 && IFS= read -t 20 -r err <&3 || unanswered
[ -z "$out" ] || base64 -d <<< "$out"
[ -z "$err" ] || base64 -d <<< "$err" >&2
exit "\${reply#result }"
`;
}

/**
 * Writes the stand-ins into `dir`/bin, starts the server that answers the
 * stand-in pulumi's calls (it ends when `dir`/bin/.port is removed or this
 * process ends), and returns a PATH that finds them first. The scripts name no
 * path under `dir`, which may hold any character: they find their folder from $0.
 */
export function fakeCliPath(dir: string): string {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    const node = (script: string) => `"${process.execPath}" "${join(__dirname, script)}"`;
    const here = '"${0%/*}"';
    writeFileSync(join(bin, "pulumi-client"), serverClient(node("fake-pulumi.js")));
    writeFileSync(
        join(bin, "pulumi"),
        `#!/bin/sh\n${quickAnswers}[ -s ${here}/.port ] && [ -x /bin/bash ] && exec /bin/bash ${here}/pulumi-client "$@"\nexec ${node("fake-pulumi.js")} "$@"\n`,
    );
    writeFileSync(join(bin, "npm"), `#!/bin/sh\nexec ${node("fake-npm.js")} "$@"\n`);
    chmodSync(join(bin, "pulumi"), 0o755);
    chmodSync(join(bin, "npm"), 0o755);
    const server = spawn(process.execPath, [join(__dirname, "fakePulumiServer.js"), join(bin, ".port")], {
        stdio: ["pipe", "ignore", "inherit"],
    });
    server.unref();
    (server.stdin as unknown as { unref?: () => void }).unref?.();
    return [bin, ...systemPath()].join(":");
}

/** PATH without the stand-ins: Node.js and the system tools only. */
export function systemPath(): string[] {
    return [dirname(process.execPath), "/usr/bin", "/bin"];
}
