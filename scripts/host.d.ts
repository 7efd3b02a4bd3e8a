export interface RuntimeOverrides {
    readonly typescript?: boolean;
    readonly tsconfig?: string;
    readonly main?: string;
}
export interface HostRun {
    readonly stack: string;
    readonly config: Record<string, string>;
    readonly secretKeys?: string[];
    readonly env?: Record<string, string>;
    readonly runtime?: RuntimeOverrides;
    readonly projectDir?: string;
}
export declare const projectDir: string;
export declare function hostInvocation(run: HostRun): { command: string; args: string[]; env: Record<string, string>; cwd: string };
