/**
 * Where one plugin is in this process, as one value (rather than flags that must agree): nothing
 * runs here; an instance is starting (it counts against the quota from the moment it passed the
 * check); an instance serves calls; or an instance runs but takes no calls (being disabled,
 * handing over in a reload, or failed and about to be removed). Generic over the instance type,
 * so the transitions are tested without containers.
 */
export type PluginPhase<I> =
  | { readonly kind: 'idle' }
  | { readonly kind: 'starting' }
  | { readonly kind: 'serving'; readonly instance: I }
  | { readonly kind: 'paused'; readonly instance: I };

export const IDLE = { kind: 'idle' } as const;
export const STARTING = { kind: 'starting' } as const;

export function serving<I>(instance: I): PluginPhase<I> {
  return { kind: 'serving', instance };
}

/** The instance that runs here (serving or not), if any. */
export function runningInstance<I>(phase: PluginPhase<I>): I | undefined {
  return phase.kind === 'serving' || phase.kind === 'paused' ? phase.instance : undefined;
}

/** The instance that takes calls now, if any. */
export function servingInstance<I>(phase: PluginPhase<I>): I | undefined {
  return phase.kind === 'serving' ? phase.instance : undefined;
}

/** Whether it counts against its tenant's quota: running here, or starting. */
export function holdsQuota<I>(phase: PluginPhase<I>): boolean {
  return phase.kind !== 'idle';
}

/** Stops taking calls; the instance keeps running. Any other phase stays as it is. */
export function paused<I>(phase: PluginPhase<I>): PluginPhase<I> {
  return phase.kind === 'serving' ? { kind: 'paused', instance: phase.instance } : phase;
}

/**
 * Takes calls again on `instance` (a reload that failed re-enables the old version), but only if
 * that instance is still the paused one: one removed meanwhile (it crashed) is not brought back.
 */
export function resumed<I>(phase: PluginPhase<I>, instance: I): PluginPhase<I> {
  return phase.kind === 'paused' && phase.instance === instance ? serving(instance) : phase;
}
