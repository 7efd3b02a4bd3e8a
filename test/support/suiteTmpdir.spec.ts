import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ramMountUsable, removeLeftovers, removeRunFolder, suiteTmpdir, suiteTmpRoot, userFolder } from "./suiteTmpdir";

const mounts = (shm: string) =>
    ["/dev/vda / ext4 rw,relatime 0 0", "devtmpfs /dev devtmpfs rw,relatime 0 0", shm, "proc /proc proc rw,nosuid 0 0"].join("\n");
const usable = mounts("tmpfs /dev/shm tmpfs rw,relatime,size=24684096k 0 0");
const roomy = () => 1024 ** 3;
const root = mkdtempSync(join(tmpdir(), "qredo-keys-suite-tmp-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const uid = process.getuid?.() ?? -1;

describe("the run's temporary folder", () => {
    it("is in RAM only where /dev/shm is a writable tmpfs that lets files run and has room", () => {
        expect(ramMountUsable(usable)).toBe(true);
        expect(ramMountUsable(mounts("shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0"))).toBe(false);
        expect(ramMountUsable(mounts("tmpfs /dev/shm tmpfs ro,relatime 0 0"))).toBe(false);
        expect(ramMountUsable(mounts("/dev/vdb /dev/shm ext4 rw,relatime 0 0"))).toBe(false);
        expect(ramMountUsable(mounts(""))).toBe(false);
        // The last mount on a point is the one in effect.
        expect(ramMountUsable(`${mounts("tmpfs /dev/shm tmpfs rw 0 0")}\nshm /dev/shm tmpfs rw,noexec 0 0`)).toBe(false);
        expect(ramMountUsable(`${mounts("shm /dev/shm tmpfs rw,noexec 0 0")}\ntmpfs /dev/shm tmpfs rw 0 0`)).toBe(true);
        expect(suiteTmpRoot({}, usable, roomy)).toBe("/dev/shm");
        expect(suiteTmpRoot({}, usable, () => 64 * 1024 ** 2)).toBe(tmpdir()); // a small /dev/shm would fill up
        expect(suiteTmpRoot({}, mounts(""), roomy)).toBe(tmpdir());
    });

    it("goes under the user's TMPDIR, and a TMPDIR the tests cannot use is one clear error", () => {
        expect(suiteTmpRoot({ TMPDIR: root }, usable, roomy)).toBe(root);
        expect(suiteTmpRoot({ TMPDIR: relative(process.cwd(), root) }, usable, roomy)).toBe(root); // absolute, for every process
        const missing = join(root, "missing");
        expect(() => suiteTmpRoot({ TMPDIR: missing }, usable, roomy)).toThrow(
            `TMPDIR is ${missing}, which is not a folder the tests can write to: create it, or unset TMPDIR.`,
        );
        const file = join(root, "a-file");
        writeFileSync(file, "");
        expect(() => suiteTmpRoot({ TMPDIR: file }, usable, roomy)).toThrow(/TMPDIR is .*a-file, which is not a folder/);
        if (uid !== 0) {
            const readOnly = join(root, "read-only");
            mkdirSync(readOnly, { mode: 0o555 });
            expect(() => suiteTmpRoot({ TMPDIR: readOnly }, usable, roomy)).toThrow(/which is not a folder the tests can write to/);
            chmodSync(readOnly, 0o755);
        }
    });

    it("is made in a folder of the user's own that only the user can open, named after the run's process", () => {
        const shared = mkdtempSync(join(root, "shared-"));
        const dir = suiteTmpdir(shared);
        const own = join(shared, `qredo-partner-keys-tests-${uid}`);
        expect(dir.startsWith(join(own, `qredo-partner-keys-run-${process.pid}-`))).toBe(true);
        expect(lstatSync(own).mode & 0o777).toBe(0o700);
        expect(suiteTmpdir(shared).startsWith(own)).toBe(true); // the next run uses the same one
    });

    it("sweeps nothing where the user's folder's name is taken: by a symlink, a file, or a folder others can open", () => {
        const elsewhere = mkdtempSync(join(root, "elsewhere-"));
        mkdirSync(join(elsewhere, "qredo-partner-keys-run-1-victim"));
        for (const [name, make] of [
            ["symlink", (p: string) => symlinkSync(elsewhere, p)],
            ["file", (p: string) => writeFileSync(p, "")],
            ["open", (p: string) => mkdirSync(p, { mode: 0o777 })],
        ] as const) {
            const shared = mkdtempSync(join(root, `${name}-`));
            const taken = join(shared, `qredo-partner-keys-tests-${uid}`);
            make(taken);
            if (name === "open") {
                chmodSync(taken, 0o777); // past the umask
            }
            expect(userFolder(shared), name).toBeUndefined();
            const dir = suiteTmpdir(shared);
            expect(dir.startsWith(join(shared, `qredo-partner-keys-run-${process.pid}-`)), name).toBe(true);
        }
        expect(existsSync(join(elsewhere, "qredo-partner-keys-run-1-victim"))).toBe(true);
    });

    it("sweeps nothing in a folder others can write to that is not sticky (they could swap the user's folder for a symlink)", () => {
        const open = mkdtempSync(join(root, "open-"));
        chmodSync(open, 0o777);
        expect(userFolder(open)).toBeUndefined();
        expect(suiteTmpdir(open).startsWith(join(open, `qredo-partner-keys-run-${process.pid}-`))).toBe(true);
        chmodSync(open, 0o1777); // as /tmp and /dev/shm are
        expect(userFolder(open)).toBe(join(open, `qredo-partner-keys-tests-${uid}`));
    });

    it("is removed at the end without an error, also when it is gone already", () => {
        const dir = suiteTmpdir(mkdtempSync(join(root, "end-")));
        mkdirSync(join(dir, "a", "b"), { recursive: true });
        writeFileSync(join(dir, "a", "b", "file"), "x");
        removeRunFolder(dir);
        expect(existsSync(dir)).toBe(false);
        expect(existsSync(`${dir}-removing`)).toBe(false);
        expect(() => removeRunFolder(dir)).not.toThrow();
    });

    it("is removed by a later run when its run was killed and it was left for ten minutes; never a running run's, a recent one or another file", () => {
        const own = mkdtempSync(join(root, "sweep-"));
        const ended = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
        const stopped = join(own, `qredo-partner-keys-run-${ended.stdout}-abc123`);
        const running = join(own, `qredo-partner-keys-run-${process.pid}-def456`);
        const parentRunning = join(own, `qredo-partner-keys-run-${process.ppid}-ghi789`);
        const other = join(own, `other-run-${ended.stdout}-abc123`);
        for (const dir of [stopped, running, parentRunning, other]) {
            mkdirSync(join(dir, "inner"), { recursive: true });
        }
        const now = Date.now();
        removeLeftovers(own, now + 9 * 60_000); // changed nine minutes ago: maybe a run this one cannot see
        expect([stopped, running, parentRunning, other].filter((d) => !existsSync(d))).toEqual([]);
        removeLeftovers(own, now + 11 * 60_000);
        expect(existsSync(stopped)).toBe(false);
        expect([running, parentRunning, other].filter((d) => !existsSync(d))).toEqual([]);
    });

    it("is where this run's test files make theirs", () => {
        expect(tmpdir()).toMatch(/\/qredo-partner-keys-run-\d+-[^/]+$/);
    });
});
