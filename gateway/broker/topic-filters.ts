// MQTT topic-filter rules [MQTT-4.7.1]: '#' only as the whole last level,
// '+' only as a whole level.
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > 65535) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level === '#') return i === levels.length - 1;
    if (level === '+') return true;
    return !level.includes('#') && !level.includes('+');
  });
}

/** Whether a concrete topic name matches a filter. */
export function topicMatches(filter: string, topic: string): boolean {
  return filterCovers(filter, topic);
}

/**
 * Whether every topic that `inner` can match is also matched by `outer`:
 * an ACL pattern `devices/+/telemetry` covers a subscription to
 * `devices/dev-1/telemetry` but not to `devices/#`.
 */
export function filterCovers(outer: string, inner: string): boolean {
  // [MQTT-4.7.2-1] wildcards at the first level never match '$' topics ($SYS...).
  if (inner.startsWith('$') && (outer.startsWith('+') || outer.startsWith('#'))) return false;
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    const level = o[i];
    if (level === '#') return true;
    if (i >= n.length) return false;
    if (level === '+') {
      if (n[i] === '#') return false;
      continue;
    }
    if (level !== n[i]) return false;
  }
  // 'a/#' also matches 'a' itself, hence the covered-by-parent case above; here the lengths must agree.
  return o.length === n.length;
}
