import type { BackendUser } from '../registry/users.js';
import { filterCovers, topicMatches } from './topic-filters.js';

/**
 * Publish rule for backend users: a gateway-only topic (device data, presence,
 * dead letters) is refused whatever the user's ACL says; otherwise one of the
 * user's publish patterns must match.
 */
export function mayPublish(user: BackendUser | undefined, topic: string, gatewayOnly: readonly string[]): boolean {
  if (gatewayOnly.some((filter) => topicMatches(filter, topic))) return false;
  return user !== undefined && user.allowPub.some((pattern) => topicMatches(pattern, topic));
}

/** A subscription is allowed when one of the user's patterns covers every topic it could match. */
export function maySubscribe(user: BackendUser | undefined, filter: string): boolean {
  return user !== undefined && user.allowSub.some((pattern) => filterCovers(pattern, filter));
}
