// Where the suite's throwaway folders go. Creating a file on a virtual
// machine's disk can cost a millisecond of system time (it does on the
// two-core machine the suite's figures come from), and the suite creates
// thousands: project copies, stand-in states, key files. In a RAM-backed
// folder a file costs a hundredth of that, which takes seconds off npm test.
// So, unless TMPDIR already says where temporary files go, the suite keeps
// them in a folder of its own under /dev/shm when that is a writable tmpfs
// that lets files run (the stand-in `pulumi` and `npm` run from there).
// Anywhere else nothing changes: the system's temporary folder.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const ramRoot = "/dev/shm";
const prefix = "qredo-partner-keys-tests-";

/** Whether /proc/mounts says /dev/shm is a tmpfs the suite can write to and run files from. */
export function ramMountUsable(mounts: string): boolean {
    const fields = mounts
        .split("\n")
        .map((line) => line.split(" "))
        .filter((f) => f[1] === ramRoot)
        .at(-1); // the last mount on a point is the one in effect
    const options = (fields?.[3] ?? "").split(",");
    return fields?.[2] === "tmpfs" && options.includes("rw") && !options.includes("noexec");
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM"; // someone else's: running
    }
}

/**
 * Removes the folders of runs that were killed before they could clean up:
 * each folder's name carries its run's process id. A folder changed in the
 * last ten minutes stays, whatever its process id says (a run in another
 * container that shares /dev/shm has process ids this one cannot see; a
 * running suite adds and removes folders in its own all the time).
 */
export function removeLeftovers(root: string, now = Date.now()): void {
    for (const name of readdirSync(root)) {
        const pid = name.startsWith(prefix) ? Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]) : NaN;
        if (pid > 0 && pid !== process.pid && !alive(pid)) {
            try {
                if (now - statSync(join(root, name)).mtimeMs < 10 * 60_000) {
                    continue;
                }
                rmSync(join(root, name), { recursive: true, force: true });
            } catch {
                // another user's: theirs to remove
            }
        }
    }
}

/** A fresh folder for the suite's temporary files, or undefined to keep the system's. */
export function ramTempDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
    if (env.TMPDIR) {
        return undefined; // the user chose
    }
    try {
        if (!ramMountUsable(readFileSync("/proc/mounts", "utf8"))) {
            return undefined;
        }
        removeLeftovers(ramRoot);
        return mkdtempSync(join(ramRoot, `${prefix}${process.pid}-`));
    } catch {
        return undefined; // not Linux, or not writable after all
    }
}
