import semver from 'semver';
import { z } from 'zod';

/** More than this many requirements is not a plugin's dependency list but an attempt at work. */
export const MAX_PYTHON_PACKAGES = 64;
const MAX_REQUIREMENT_CHARS = 200;
const MAX_RANGE_CHARS = 100;
// One PEP 508 string, parsed by Python's own `packaging` in the dependency step (Python semantics
// in Python); here only what is never one: empty, a control character, a leading option dash.
const REQUIREMENT = /^[^\s\-\p{Cc}][^\p{Cc}]*$/u;

/** plugin.yaml's `dependencies` section (the specification's appendix B). */
export const dependenciesSchema = z.strictObject({
  classtop_version: z
    .string()
    .max(MAX_RANGE_CHARS)
    .refine((range) => semver.validRange(range) !== null, {
      error: (issue) => `'${String(issue.input)}' is not a version range such as ">=2.0.0"`,
    })
    .optional(),
  python_packages: z
    .array(
      z
        .string()
        .max(MAX_REQUIREMENT_CHARS)
        .regex(REQUIREMENT, 'must be a PEP 508 requirement such as "requests>=2.28.0"'),
    )
    .max(MAX_PYTHON_PACKAGES)
    .default([]),
});

/** What a plugin needs of its host and its image; checked before any of its containers start. */
export interface PluginDependencies {
  /** A semver range the host's ClassTop version must satisfy; null when the manifest sets none. */
  classtopVersion: string | null;
  /** PEP 508 requirement strings, as written. */
  pythonPackages: readonly string[];
}

export function toPluginDependencies(raw: z.infer<typeof dependenciesSchema> | undefined): PluginDependencies {
  return Object.freeze({
    classtopVersion: raw?.classtop_version ?? null,
    pythonPackages: Object.freeze([...new Set(raw?.python_packages ?? [])]),
  });
}
