import { constants } from 'node:os';

/** Docker reports a process ended by signal N as exit code 128 + N. */
const SIGNAL_EXIT_BASE = 128;

/** Signal number → its first name (SIGABRT before its alias SIGIOT). */
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, number] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);
}

/** How a plugin's container ended, as the engine reports it. */
export interface ContainerExit {
  exitCode: number;
  oomKilled: boolean;
}

/**
 * "container exited with code 139 (SIGSEGV)": the code, and what it stands for, the signal that
 * ended the process or the kernel's out-of-memory kill, so that a status says how a plugin died.
 */
export function describeExit(exit: ContainerExit): string {
  const code = `container exited with code ${exit.exitCode}`;
  if (exit.oomKilled) return `${code} (killed: out of memory)`;
  const signal = exit.exitCode > SIGNAL_EXIT_BASE ? SIGNAL_NAMES.get(exit.exitCode - SIGNAL_EXIT_BASE) : undefined;
  return signal ? `${code} (${signal})` : code;
}
