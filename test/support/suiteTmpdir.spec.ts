import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ramMountUsable, removeLeftovers, suiteTmpdir, suiteTmpRoot } from "./suiteTmpdir";

const mounts = (shm: string) =>
    ["/dev/vda / ext4 rw,relatime 0 0", "devtmpfs /dev devtmpfs rw,relatime 0 0", shm, "proc /proc proc rw,nosuid 0 0"].join("\n");
const usable = mounts("tmpfs /dev/shm tmpfs rw,relatime,size=24684096k 0 0");
const root = mkdtempSync(join(tmpdir(), "qredo-keys-suite-tmp-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the run's temporary folder", () => {
    it("is in RAM only where /dev/shm is a writable tmpfs that lets files run", () => {
        expect(ramMountUsable(usable)).toBe(true);
        expect(ramMountUsable(mounts("shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0"))).toBe(false);
        expect(ramMountUsable(mounts("tmpfs /dev/shm tmpfs ro,relatime 0 0"))).toBe(false);
        expect(ramMountUsable(mounts("/dev/vdb /dev/shm ext4 rw,relatime 0 0"))).toBe(false);
        expect(ramMountUsable(mounts(""))).toBe(false);
        // The last mount on a point is the one in effect.
        expect(ramMountUsable(`${mounts("tmpfs /dev/shm tmpfs rw 0 0")}\nshm /dev/shm tmpfs rw,noexec 0 0`)).toBe(false);
        expect(ramMountUsable(`${mounts("shm /dev/shm tmpfs rw,noexec 0 0")}\ntmpfs /dev/shm tmpfs rw 0 0`)).toBe(true);
        expect(suiteTmpRoot({}, usable)).toBe("/dev/shm");
        expect(suiteTmpRoot({}, mounts(""))).toBe(tmpdir());
    });

    it("goes under the user's TMPDIR, and a TMPDIR the tests cannot use is one clear error", () => {
        expect(suiteTmpRoot({ TMPDIR: root }, usable)).toBe(root);
        const missing = join(root, "missing");
        expect(() => suiteTmpRoot({ TMPDIR: missing }, usable)).toThrow(
            `TMPDIR is ${missing}, which is not a folder the tests can write to: create it, or unset TMPDIR.`,
        );
        const file = join(root, "a-file");
        writeFileSync(file, "");
        expect(() => suiteTmpRoot({ TMPDIR: file }, usable)).toThrow(/TMPDIR is .*a-file, which is not a folder/);
        if (process.getuid?.() !== 0) {
            const readOnly = join(root, "read-only");
            mkdirSync(readOnly, { mode: 0o555 });
            expect(() => suiteTmpRoot({ TMPDIR: readOnly }, usable)).toThrow(/which is not a folder the tests can write to/);
            chmodSync(readOnly, 0o755);
        }
    });

    it("is named after the run's process, so a later run can tell a killed run's folder", () => {
        const dir = suiteTmpdir(root);
        expect(dir.startsWith(join(root, `qredo-partner-keys-tests-${process.pid}-`))).toBe(true);
        expect(existsSync(dir)).toBe(true);
    });

    it("is removed by a later run when its run was killed and it was left for ten minutes; never a running run's, a recent one or another file", () => {
        const sweep = mkdtempSync(join(root, "sweep-"));
        const ended = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
        const stopped = join(sweep, `qredo-partner-keys-tests-${ended.stdout}-abc123`);
        const running = join(sweep, `qredo-partner-keys-tests-${process.pid}-def456`);
        const parentRunning = join(sweep, `qredo-partner-keys-tests-${process.ppid}-ghi789`);
        const other = join(sweep, `other-tests-${ended.stdout}-abc123`);
        for (const dir of [stopped, running, parentRunning, other]) {
            mkdirSync(join(dir, "inner"), { recursive: true });
        }
        const now = Date.now();
        removeLeftovers(sweep, now + 9 * 60_000); // changed nine minutes ago: maybe a run this one cannot see
        expect([stopped, running, parentRunning, other].filter((d) => !existsSync(d))).toEqual([]);
        removeLeftovers(sweep, now + 11 * 60_000);
        expect(existsSync(stopped)).toBe(false);
        expect([running, parentRunning, other].filter((d) => !existsSync(d))).toEqual([]);
    });

    it("is where this run's test files make theirs", () => {
        expect(tmpdir()).toMatch(new RegExp(`/qredo-partner-keys-tests-\\d+-[^/]+$`));
    });
});
