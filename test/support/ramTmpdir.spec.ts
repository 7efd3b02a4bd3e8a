import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ramMountUsable, ramTempDir, removeLeftovers } from "./ramTmpdir";

const mounts = (shm: string) =>
    ["/dev/vda / ext4 rw,relatime 0 0", "devtmpfs /dev devtmpfs rw,relatime 0 0", shm, "proc /proc proc rw,nosuid 0 0"].join("\n");

describe("the suite's temporary folder", () => {
    it("is RAM-backed only where /dev/shm is a writable tmpfs that lets files run", () => {
        expect(ramMountUsable(mounts("tmpfs /dev/shm tmpfs rw,relatime,size=24684096k 0 0"))).toBe(true);
        expect(ramMountUsable(mounts("shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k 0 0"))).toBe(false);
        expect(ramMountUsable(mounts("tmpfs /dev/shm tmpfs ro,relatime 0 0"))).toBe(false);
        expect(ramMountUsable(mounts("/dev/vdb /dev/shm ext4 rw,relatime 0 0"))).toBe(false);
        expect(ramMountUsable(mounts(""))).toBe(false);
        // The last mount on a point is the one in effect.
        expect(ramMountUsable(`${mounts("tmpfs /dev/shm tmpfs rw 0 0")}\nshm /dev/shm tmpfs rw,noexec 0 0`)).toBe(false);
        expect(ramMountUsable(`${mounts("shm /dev/shm tmpfs rw,noexec 0 0")}\ntmpfs /dev/shm tmpfs rw 0 0`)).toBe(true);
    });

    it("stays where the user's TMPDIR says", () => {
        expect(ramTempDir({ TMPDIR: "/var/tmp" })).toBeUndefined();
    });

    it("removes the folders of killed runs left for ten minutes, never a running one's, a recent one or another file", () => {
        const root = mkdtempSync(join(tmpdir(), "qredo-keys-ram-"));
        try {
            const ended = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
            const stopped = join(root, `qredo-partner-keys-tests-${ended.stdout}-abc123`);
            const running = join(root, `qredo-partner-keys-tests-${process.pid}-def456`);
            const parentRunning = join(root, `qredo-partner-keys-tests-${process.ppid}-ghi789`);
            const other = join(root, `other-tests-${ended.stdout}-abc123`);
            for (const dir of [stopped, running, parentRunning, other]) {
                mkdirSync(join(dir, "inner"), { recursive: true });
            }
            const now = Date.now();
            removeLeftovers(root, now + 9 * 60_000); // changed nine minutes ago: maybe a run this one cannot see
            expect([stopped, running, parentRunning, other].filter((d) => !existsSync(d))).toEqual([]);
            removeLeftovers(root, now + 11 * 60_000);
            expect(existsSync(stopped)).toBe(false);
            expect([running, parentRunning, other].filter((d) => !existsSync(d))).toEqual([]);
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });
});
