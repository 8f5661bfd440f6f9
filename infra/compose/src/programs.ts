// The programs of the image (Dockerfile), each bundled to /app/<name>.js by bundle.ts and chosen
// by SEQLINE_SERVICE (seqline-main.ts).
export const SERVICES = ['sequencer', 'storage', 'write', 'gateway'] as const;
export const PROGRAMS = [...SERVICES, 'dashboard', 'secrets'] as const;
export type Program = (typeof PROGRAMS)[number];

export const isProgram = (name: string): name is Program => (PROGRAMS as readonly string[]).includes(name);
