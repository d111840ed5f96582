/** One line saying what is running, what is needed and how to get it; null when this Node will do. */
export function nodeProblem(version?: string, execPath?: string, platform?: string, arch?: string): string | null;
export const NEEDED: [number, number];
