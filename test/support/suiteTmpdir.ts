// Where the suite's throwaway folders go: one folder per run, which the run
// removes when it ends (also when stopped), and a later run removes if the
// run was killed first. Test files make their folders in it (os.tmpdir()).
//
// Its place: under TMPDIR when that is set; else, where /dev/shm is a
// writable tmpfs that lets files run (the stand-in `pulumi` and `npm` run
// from there) and has room, in RAM; else the system's temporary folder.
// Creating a file on a virtual machine's disk can cost a millisecond of
// system time (it does on the two-core machine the suite's figures come
// from), and the suite creates thousands: project copies, stand-in states,
// key files. In RAM a file costs a hundredth of that.
//
// The run folders are made in a folder of the user's own
// (qredo-partner-keys-tests-UID, mode 0700), and only that folder is swept:
// a shared temporary folder holds whatever other users put there, and a
// recursive delete of a folder someone else can change can be led, by a
// symlink swapped in mid-delete, to files outside it.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { tmpdirProblem } from "./tmpdirCheck.js";

const ramRoot = "/dev/shm";
/** What a run takes at most, with room to spare: a full run peaks at about 6 MB. */
const ramNeeded = 256 * 1024 * 1024;

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
 * Removes the folders of killed runs from the user's own folder: each run
 * folder's name carries its run's process id. A folder changed in the last
 * ten minutes stays, whatever its process id says (a run in another container
 * that shares the folder has process ids this one cannot see; a running suite
 * adds and removes folders in its own all the time).
 */
export function removeLeftovers(userDir: string, now = Date.now()): void {
    for (const name of readdirSync(userDir)) {
        const pid = Number(/^qredo-partner-keys-run-(\d+)-/.exec(name)?.[1]);
        if (pid > 0 && pid !== process.pid && !alive(pid)) {
            const dir = join(userDir, name);
            try {
                if (now - lstatSync(dir).mtimeMs >= 10 * 60_000) {
                    rmSync(dir, { recursive: true, force: true });
                }
            } catch {
                // gone meanwhile, or not removable now: the next run tries again; the others are still swept
            }
        }
    }
}

/**
 * The user's own folder under `root`, made if missing; undefined when the
 * name is taken by anything but a folder of this user's that only this user
 * can open, or when others can replace entries of root (then nothing is
 * swept, and each run folder goes straight in root).
 */
export function userFolder(root: string): string | undefined {
    const uid = process.getuid?.();
    if (uid === undefined) {
        return undefined; // not POSIX
    }
    const parent = statSync(root);
    if ((parent.mode & 0o022) !== 0 && (parent.mode & 0o1000) === 0) {
        // Others may rename and replace entries in root (not sticky): the folder checked now
        // could be a symlink by the time it is read.
        return undefined;
    }
    const dir = join(root, `qredo-partner-keys-tests-${uid}`);
    try {
        mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
            return undefined;
        }
    }
    const stat = lstatSync(dir); // a symlink is not a folder here
    return stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0 ? dir : undefined;
}

/** The folder the run's folder goes in; a TMPDIR the tests cannot use is an error that says so. */
export function suiteTmpRoot(env: NodeJS.ProcessEnv = process.env, mounts = readMounts(), ramFree = freeBytes): string {
    if (env.TMPDIR) {
        const problem = tmpdirProblem(env);
        if (problem !== undefined) {
            throw new Error(problem);
        }
        return resolve(env.TMPDIR); // the processes the tests start run in other folders
    }
    return ramMountUsable(mounts) && ramFree(ramRoot) >= ramNeeded ? ramRoot : tmpdir();
}

function readMounts(): string {
    try {
        return readFileSync("/proc/mounts", "utf8");
    } catch {
        return ""; // not Linux
    }
}

function freeBytes(path: string): number {
    try {
        const stats = statfsSync(path);
        return stats.bavail * stats.bsize;
    } catch {
        return 0;
    }
}

/**
 * Removes a run's folder, never throwing (it runs as the process exits). Moved
 * aside first, so a process of the run still writing (stopped with Ctrl-C,
 * say) gets ENOENT instead of refilling it; what cannot be removed now, a
 * later run's sweep removes.
 */
export function removeRunFolder(dir: string): void {
    let target = dir;
    try {
        renameSync(dir, `${dir}-removing`);
        target = `${dir}-removing`;
    } catch {
        // gone already, or cannot be moved: removed where it is
    }
    for (let attempt = 0; attempt < 5; attempt++) {
        try {
            rmSync(target, { recursive: true, force: true });
            return;
        } catch {
            // ENOTEMPTY: something was still writing; again
        }
    }
}

/** A fresh folder for this run's temporary files (after removing killed runs' folders). */
export function suiteTmpdir(root = suiteTmpRoot()): string {
    let parent = root;
    try {
        const own = userFolder(root);
        if (own !== undefined) {
            removeLeftovers(own);
            parent = own;
        }
    } catch {
        // unreadable: nothing to sweep
    }
    return mkdtempSync(join(parent, `qredo-partner-keys-run-${process.pid}-`));
}
