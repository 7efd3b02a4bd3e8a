// Stand-in `pulumi` and `npm` executables (fake-pulumi.js, fake-npm.js) in a
// folder to put first on PATH; they record their calls in $FAKE_PULUMI_DIR.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Writes the stand-ins into `dir`/bin and returns a PATH that finds them first. */
export function fakeCliPath(dir: string): string {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    for (const [name, script] of [["pulumi", "fake-pulumi.js"], ["npm", "fake-npm.js"]]) {
        writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${join(__dirname, script)}" "$@"\n`);
        chmodSync(join(bin, name), 0o755);
    }
    return [bin, ...systemPath()].join(":");
}

/** PATH without the stand-ins: Node.js and the system tools only. */
export function systemPath(): string[] {
    return [dirname(process.execPath), "/usr/bin", "/bin"];
}
