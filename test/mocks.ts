/**
 * Pulumi's mock runtime, with mocks that behave like the providers where the
 * program depends on them, and a recorder of every registered resource with
 * its inputs and options.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { vi } from "vitest";
import { invokeResult, providerState, region } from "./support/providers.js";

export { accountId, kmsKeyArn, makeApiKey } from "./support/providers.js";

const project = "qredo-partner-keys";

/** Pulumi's wire marker for a secret value. */
const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    /** Inputs as the engine received them; secrets still wrapped (see `isSecretValue`). */
    readonly inputs: Record<string, unknown>;
    readonly parent: string;
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    /** URNs of the resources whose replacement replaces this one. */
    readonly replaceWith: readonly string[];
    readonly urn: string;
}

export interface RecordedCall {
    readonly token: string;
    readonly inputs: Record<string, unknown>;
}

export const resources: RecordedResource[] = [];
export const calls: RecordedCall[] = [];

export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[sigKey] === secretSig;
}

/** The plain value of an input, secret or not. */
export function reveal(value: unknown): unknown {
    return isSecretValue(value) ? value.value : value;
}

// Record options as the engine sees them: wrap the mock monitor's registerResource,
// which receives the whole request; newResource (below) sees only the inputs.
type RegisterRequest = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProtect(): boolean;
    getRetainondelete(): boolean;
    getReplaceWithList(): string[];
};
const monitorPrototype = MockMonitor.prototype as unknown as {
    registerResource(req: RegisterRequest, callback: (err: unknown, res: unknown) => void): Promise<void>;
    __recording?: boolean;
};
if (!monitorPrototype.__recording) {
    const register = monitorPrototype.registerResource;
    monitorPrototype.registerResource = async function (this: unknown, req, callback) {
        return register.call(this, req, (err, res) => {
            const inputs = lastInputs.get(`${req.getType()}::${req.getName()}`);
            if (!err && inputs !== undefined) {
                resources.push({
                    type: req.getType(),
                    name: req.getName(),
                    inputs,
                    parent: req.getParent(),
                    protect: req.getProtect(),
                    retainOnDelete: req.getRetainondelete(),
                    replaceWith: req.getReplaceWithList(),
                    urn: (res as { getUrn(): string }).getUrn(),
                });
            }
            callback(err, res);
        });
    };
    monitorPrototype.__recording = true;
}
const lastInputs = new Map<string, Record<string, unknown>>();

const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
        const inputs = args.inputs as Record<string, unknown>;
        const state = providerState(args.type, args.name, inputs);
        lastInputs.set(`${args.type}::${args.name}`, inputs);
        return { id: state.id as string, state };
    },
    call(args) {
        calls.push({ token: args.token, inputs: args.inputs as Record<string, unknown> });
        return invokeResult(args.token, args.inputs as Record<string, unknown>);
    },
};

export interface StackRun {
    readonly stack: string;
    /** Project config values by short key; lists and maps as JSON text, as the CLI passes them. */
    readonly config: Readonly<Record<string, string>>;
    /** Short keys set with --secret. @default ["apiKey"] */
    readonly secretKeys?: readonly string[];
    /** Extra config with its namespace, such as aws:region. */
    readonly extraConfig?: Readonly<Record<string, string>>;
}

/**
 * Runs index.ts as stack `stack` in a fresh module graph under the mock
 * runtime, and waits until every resource is registered. Returns the
 * module's exports (the stack outputs). Rejects as the program does.
 */
export async function runProgram(run: StackRun): Promise<Record<string, unknown>> {
    resources.length = 0;
    calls.length = 0;
    lastInputs.clear();
    vi.resetModules();
    pulumi.runtime.setMocks(mocks, project, run.stack, false);
    const config: Record<string, string> = { "aws:region": region, ...run.extraConfig };
    for (const [key, value] of Object.entries(run.config)) {
        config[`${project}:${key}`] = value;
    }
    const secretKeys = (run.secretKeys ?? ["apiKey"]).map((key) => `${project}:${key}`);
    pulumi.runtime.setAllConfig(config, secretKeys);
    const program = (await import("../index.js")) as Record<string, unknown>;
    await pulumi.runtime.disconnect();
    return program;
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}
