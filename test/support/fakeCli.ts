// Stand-in `pulumi` and `npm` executables (fake-pulumi.js, fake-npm.js) in a
// folder to put first on PATH; they record their calls in $FAKE_PULUMI_DIR.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * `pulumi version` answered by the shell (recorded like every call), because
 * each deploy asks it and a Node.js start costs more than the rest of the call.
 */
const versionInShell = `if [ "$*" = version ] && [ -z "$FAKE_PULUMI_VERSION" ] && [ -z "$FAKE_PULUMI_HANG" ]; then
  aws=false; [ -n "\${AWS_SECRET_ACCESS_KEY+x}" ] && aws=true
  qredo=false; [ -n "\${QREDO_API_KEY+x}" ] && qredo=true
  printf '{"args":["version"],"stdin":"","backend":null,"passphrase":null,"aws":%s,"qredoApiKey":%s}\\n' $aws $qredo >> "$FAKE_PULUMI_DIR/calls.jsonl"
  echo v3.250.0; exit 0
fi
`;

/** Writes the stand-ins into `dir`/bin and returns a PATH that finds them first. */
export function fakeCliPath(dir: string): string {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    for (const [name, script] of [["pulumi", "fake-pulumi.js"], ["npm", "fake-npm.js"]]) {
        const quick = name === "pulumi" ? versionInShell : "";
        writeFileSync(join(bin, name), `#!/bin/sh\n${quick}exec "${process.execPath}" "${join(__dirname, script)}" "$@"\n`);
        chmodSync(join(bin, name), 0o755);
    }
    return [bin, ...systemPath()].join(":");
}

/** PATH without the stand-ins: Node.js and the system tools only. */
export function systemPath(): string[] {
    return [dirname(process.execPath), "/usr/bin", "/bin"];
}
