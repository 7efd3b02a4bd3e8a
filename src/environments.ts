/**
 * The two Qredo environments and every default of the program, stated once.
 * Both the config loader and the component import them from here;
 * Pulumi.yaml repeats the fixed defaults for the CLI, and a test keeps the
 * two equal.
 */

export const projectName = "qredo-partner-keys";

export const environments = ["sandbox", "production"] as const;
export type Environment = (typeof environments)[number];

export function isEnvironment(value: string): value is Environment {
    return environments.some((environment) => environment === value);
}

/** `pending`: the newest key is staged (AWSPENDING) while signers keep the previous one. */
export const keyStages = ["current", "pending"] as const;
export type KeyStage = (typeof keyStages)[number];

export function isKeyStage(value: string): value is KeyStage {
    return keyStages.some((stage) => stage === value);
}

/** What differs between the two environments when the stack does not say. */
export const environmentDefaults: Readonly<Record<Environment, { readonly recoveryWindowInDays: number; readonly protect: boolean }>> = {
    production: { recoveryWindowInDays: 30, protect: true },
    sandbox: { recoveryWindowInDays: 7, protect: false },
};

/** The defaults that do not depend on the environment. */
export const defaults = {
    keyVersion: 1,
    keyStage: "current",
    apiBaseUrl: "https://api.qredo.network/api/v1/p",
    secretNamePrefix: "qredo/partner-api",
} as const satisfies { keyVersion: number; keyStage: KeyStage; apiBaseUrl: string; secretNamePrefix: string };

/** An environment's two secrets, named under a prefix (npm run deploy checks a deployed stack keeps them). */
export function secretNames(prefix: string, environment: Environment): { readonly privateKey: string; readonly apiKey: string } {
    return { privateKey: `${prefix}/${environment}/private-key`, apiKey: `${prefix}/${environment}/api-key` };
}

/** Tags on every resource; config `tags` are merged over them. */
export function defaultTags(environment: Environment): Readonly<Record<string, string>> {
    return { Project: projectName, Environment: environment, ManagedBy: "pulumi" };
}
