export declare const projectDir: string;
export declare function copyProject(options: { dependencies: boolean; build?: boolean }): string;
export declare function linkDependencies(dir: string): void;
