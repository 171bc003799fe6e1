import type { Snapshot } from './snapshot';

// What a change of the Durable Object's state did, and so what ControlPlane.mutate
// does after it: every outcome carries the change's own typed result.
//
// - changed:     the revision moves on and the new snapshot is published;
// - unpublished: the revision moves on, the publish waits for the next one (a snapshot
//                with a given revision then always has the same content);
// - republish:   nothing changed, the current snapshot is published again;
// - unchanged:   nothing changed, nothing is published.

export type Effect = 'changed' | 'unpublished' | 'republish' | 'unchanged';

export interface MutationOutcome<T> {
  effect: Effect;
  result: T;
}

/** What mutate returns: the change's result and the snapshot of the state after it. */
export interface Mutated<T> {
  result: T;
  snapshot: Snapshot;
}

export function changed(): MutationOutcome<undefined>;
export function changed<T>(result: T): MutationOutcome<T>;
export function changed<T>(result?: T): MutationOutcome<T | undefined> {
  return { effect: 'changed', result };
}

export function unpublished<T>(result: T): MutationOutcome<T> {
  return { effect: 'unpublished', result };
}

export function republish(): MutationOutcome<undefined>;
export function republish<T>(result: T): MutationOutcome<T>;
export function republish<T>(result?: T): MutationOutcome<T | undefined> {
  return { effect: 'republish', result };
}

export function unchanged<T>(result: T): MutationOutcome<T> {
  return { effect: 'unchanged', result };
}

export function bumpsRevision(effect: Effect): boolean {
  return effect === 'changed' || effect === 'unpublished';
}

export function publishes(effect: Effect): boolean {
  return effect === 'changed' || effect === 'republish';
}
