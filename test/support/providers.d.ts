export declare const accountId: string;
export declare const region: string;
export declare const kmsKeyArn: string;
export declare function providerState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown>;
export declare function invokeResult(token: string, inputs: Record<string, unknown>): Record<string, unknown>;
export declare function makeApiKey(): string;
