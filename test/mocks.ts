/**
 * Pulumi's mock runtime, with mocks that behave like the providers where the
 * program depends on them, and a recorder of every registered resource with
 * its inputs and options.
 *
 * A run can start from the state of an earlier run (`previous`), as an
 * update of the same stack does: the engine's diff is simulated with the
 * providers' replace-on-change properties, so a resource whose inputs did
 * not change keeps its outputs (the same key, the same ARN), one changed in
 * place keeps its id, and one replaced gets new outputs.
 */
import { isDeepStrictEqual } from "node:util";
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
    /** The replacementTrigger value, as the engine records it in the state (undefined when none). */
    readonly replacementTrigger: unknown;
    readonly urn: string;
    readonly id: string;
    /** What an update from the `previous` state would do to it. */
    readonly operation: Operation;
}

export type Operation = "create" | "same" | "update" | "replace";

/** What the engine remembers of one resource: keyed by `type::name`. */
export type StackState = ReadonlyMap<
    string,
    {
        readonly inputs: Record<string, unknown>;
        readonly state: Record<string, unknown>;
        readonly id: string;
        /** The replacementTrigger recorded with it, if any. */
        readonly replacementTrigger?: unknown;
    }
>;

/**
 * Inputs whose change makes the provider replace the resource (ForceNew in
 * the upstream schemas); a change to any other input is an update in place.
 * SecretVersion: secretString replaces, versionStages does not
 * (terraform-provider-aws internal/service/secretsmanager/secret_version.go).
 */
const replaceOnChange: Readonly<Record<string, readonly string[]>> = {
    "random:index/randomId:RandomId": ["byteLength", "keepers", "prefix"],
    "tls:index/privateKey:PrivateKey": ["algorithm", "rsaBits", "ecdsaCurve"],
    "aws:secretsmanager/secret:Secret": ["name", "namePrefix"],
    "aws:secretsmanager/secretVersion:SecretVersion": ["secretId", "secretString", "secretBinary"],
    "aws:iam/policy:Policy": ["name", "namePrefix", "path", "description"],
    "aws:secretsmanager/secretPolicy:SecretPolicy": ["secretArn"],
};

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
    getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
};
/** What the patched monitor calls: before a registration goes to the mock monitor, and after it succeeded. */
interface Recorder {
    before(req: RegisterRequest): void;
    after(req: RegisterRequest, res: unknown): void;
}
const monitorPrototype = MockMonitor.prototype as unknown as {
    registerResource: (this: unknown, req: RegisterRequest, callback: (err: unknown, res: unknown) => void) => Promise<void>;
    __recording?: boolean;
    __recorder?: Recorder;
};
// Patched once per thread: test files share @pulumi/pulumi (vitest.config.mts),
// while this module may be loaded more than once. The patch records into the
// tables of the module instance that last ran a program (runProgram installs it).
if (!monitorPrototype.__recording) {
    const register = monitorPrototype.registerResource;
    monitorPrototype.registerResource = async function (this: unknown, req, callback) {
        const recorder = monitorPrototype.__recorder;
        recorder?.before(req);
        return register.call(this, req, (err, res) => {
            if (!err) {
                recorder?.after(req, res);
            }
            callback(err, res);
        });
    };
    monitorPrototype.__recording = true;
}
const recorder: Recorder = {
    before(req) {
        const key = `${req.getType()}::${req.getName()}`;
        replaceWithOf.set(key, req.getReplaceWithList());
        const trigger = req.getReplacementTrigger()?.toJavaScript();
        if (trigger === undefined || trigger === null) {
            triggerOf.delete(key);
        } else {
            triggerOf.set(key, trigger);
        }
    },
    after(req, res) {
        const key = `${req.getType()}::${req.getName()}`;
        const inputs = lastInputs.get(key);
        const current = state.get(key);
        if (inputs !== undefined && current !== undefined) {
            const urn = (res as { getUrn(): string }).getUrn();
            operationByUrn.set(urn, current.operation);
            resources.push({
                type: req.getType(),
                name: req.getName(),
                inputs,
                parent: req.getParent(),
                protect: req.getProtect(),
                retainOnDelete: req.getRetainondelete(),
                replaceWith: req.getReplaceWithList(),
                replacementTrigger: triggerOf.get(key),
                urn,
                id: current.id,
                operation: current.operation,
            });
        }
    },
};
const lastInputs = new Map<string, Record<string, unknown>>();
const replaceWithOf = new Map<string, readonly string[]>();
const triggerOf = new Map<string, unknown>();
const operationByUrn = new Map<string, Operation>();
const state = new Map<string, { inputs: Record<string, unknown>; state: Record<string, unknown>; id: string; operation: Operation }>();
let previous: StackState = new Map();

/** The operation an update would make, and the resource's outputs after it. */
function diff(type: string, key: string, inputs: Record<string, unknown>): { operation: Operation; state: Record<string, unknown> } {
    const before = previous.get(key);
    if (before === undefined) {
        return { operation: "create", state: providerState(type, key.split("::")[1], inputs) };
    }
    // replaceWith acts only when the named resource is replaced in this same update; replacementTrigger
    // compares with the value recorded in the state, and going from no trigger to one (or back) replaces
    // nothing (the engine's step_generator.go).
    const trigger = triggerOf.get(key);
    const forced =
        (replaceWithOf.get(key) ?? []).some((urn) => operationByUrn.get(urn) === "replace") ||
        (trigger !== undefined && before.replacementTrigger !== undefined && !isDeepStrictEqual(trigger, before.replacementTrigger));
    const changed = [...new Set([...Object.keys(before.inputs), ...Object.keys(inputs)])].filter(
        (k) => !isDeepStrictEqual(before.inputs[k], inputs[k]),
    );
    const replaceKeys = replaceOnChange[type];
    if (forced || changed.some((k) => replaceKeys === undefined || replaceKeys.includes(k))) {
        return { operation: "replace", state: providerState(type, key.split("::")[1], inputs) };
    }
    return changed.length === 0
        ? { operation: "same", state: before.state }
        : { operation: "update", state: { ...before.state, ...inputs } };
}

const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
        const inputs = args.inputs as Record<string, unknown>;
        const key = `${args.type}::${args.name}`;
        const { operation, state: outputs } = diff(args.type, key, inputs);
        const id = String(outputs.id);
        state.set(key, { inputs, state: outputs, id, operation });
        lastInputs.set(key, inputs);
        return { id, state: outputs };
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
    /** The stack's state before this run (from `stateOf`): the run is an update of it. @default a new stack */
    readonly previous?: StackState;
    /** A PKCS#1 or PKCS#8 PEM the TLS mock returns instead of generating a key, for tests that do not compare keys. */
    readonly rsaKeyPem?: string;
}

/** The state the last run left, to start another run from. */
export function stateOf(): StackState {
    return new Map(
        [...state].map(([key, { inputs, state: outputs, id }]) => {
            const replacementTrigger = triggerOf.get(key);
            return [key, { inputs, state: outputs, id, ...(replacementTrigger === undefined ? {} : { replacementTrigger }) }];
        }),
    );
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
    replaceWithOf.clear();
    triggerOf.clear();
    operationByUrn.clear();
    state.clear();
    previous = run.previous ?? new Map();
    vi.resetModules();
    monitorPrototype.__recorder = recorder;
    await pulumi.runtime.setMocks(mocks, project, run.stack, false);
    const config: Record<string, string> = { "aws:region": region, ...run.extraConfig };
    for (const [key, value] of Object.entries(run.config)) {
        config[`${project}:${key}`] = value;
    }
    const secretKeys = (run.secretKeys ?? ["apiKey"]).map((key) => `${project}:${key}`);
    pulumi.runtime.setAllConfig(config, secretKeys);
    const savedKey = process.env.QREDO_MOCK_RSA_KEY;
    if (run.rsaKeyPem !== undefined) {
        process.env.QREDO_MOCK_RSA_KEY = run.rsaKeyPem;
    }
    try {
        const program = (await import("../index.js")) as Record<string, unknown>;
        await pulumi.runtime.disconnect();
        return program;
    } finally {
        if (savedKey === undefined) {
            delete process.env.QREDO_MOCK_RSA_KEY;
        } else {
            process.env.QREDO_MOCK_RSA_KEY = savedKey;
        }
    }
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}
