/**
 * Finding secrets in captured log lines: the suite's acceptance is that no API key, fal
 * key or webhook secret is ever logged. Harnesses collect their services' lines and
 * fail when `secretsIn` finds anything.
 */

/** Secret shapes that must never appear in a log, whoever minted them. */
export const SECRET_PATTERNS: readonly RegExp[] = [
  // Standard Webhooks signing secrets (ours are `whsec_` + base64)
  /whsec_[A-Za-z0-9+/=]{10,}/,
];

/** Secrets the test harnesses configure (signing secrets and the suite's API keys). */
export const WELL_KNOWN_TEST_SECRETS: readonly string[] = [
  'test-secret-test-secret-test-secret!',
  'e2e-signing-secret-e2e-signing-secret',
];

/** Literal secrets shorter than this are not searched for: they would match ordinary text. */
const MIN_SECRET_LENGTH = 4;

/** The keys of an `API_KEYS` value (`fq_key:tenant,…`); `sha256:` entries are hashes, not secrets. */
export function apiKeysOf(apiKeys: string | undefined): string[] {
  return (apiKeys ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const colon = pair.lastIndexOf(':');
      return colon > 0 ? pair.slice(0, colon) : pair;
    })
    .filter((key) => !key.startsWith('sha256:'));
}

/**
 * The secrets that occur in `lines`: each literal of `secrets` found (as given), and each
 * match of `patterns` (the matched text). Empty when the lines are clean.
 */
export function secretsIn(
  lines: readonly string[],
  secrets: readonly (string | undefined)[],
  patterns: readonly RegExp[] = SECRET_PATTERNS,
): string[] {
  const literals = [
    ...new Set(secrets.filter((s): s is string => s !== undefined && s.length >= MIN_SECRET_LENGTH)),
  ];
  const found = new Set<string>();
  for (const line of lines) {
    for (const secret of literals) if (line.includes(secret)) found.add(secret);
    for (const pattern of patterns) {
      const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(line);
      if (match) found.add(match[0]);
    }
  }
  return [...found];
}

/** Throws naming what leaked (masked) and where, when `secretsIn` finds anything. */
export function assertNoSecretsIn(
  what: string,
  lines: readonly string[],
  secrets: readonly (string | undefined)[],
  patterns: readonly RegExp[] = SECRET_PATTERNS,
): void {
  const found = secretsIn(lines, secrets, patterns);
  if (found.length === 0) return;
  const masked = found.map((secret) => `${secret.slice(0, 6)}…(${secret.length} chars)`);
  const example = lines.find((line) => found.some((secret) => line.includes(secret))) ?? '';
  throw new Error(
    `${what}: secrets found in the logs: ${masked.join(', ')}; first such line starts: ${JSON.stringify(
      found.reduce((text, secret) => text.split(secret).join('[LEAKED]'), example).slice(0, 300),
    )}`,
  );
}
